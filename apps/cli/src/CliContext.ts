import { CliError } from './CliError.ts';
import { type CliConfig, readConfig } from './configFile.ts';
import { type CliClient, createCliClient } from './createCliClient.ts';
import { type CliEnv, DEFAULT_URL } from './env.ts';
import { EXIT } from './exitCodes.ts';
import { Output } from './Output.ts';

/** The options every command takes. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** Normalises a server URL (`http(s)://host[:port]`, no trailing slash); a bad one is a usage error. */
export function normaliseUrl(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new CliError(`--url ${JSON.stringify(value)} is not a URL (example: ${DEFAULT_URL})`, EXIT.usage, 'USAGE');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CliError(`--url must be http:// or https://, got ${parsed.protocol}`, EXIT.usage, 'USAGE');
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/**
 * What a command works with: where to write, which server (`--url`, then `TOOLRUN_URL`, then the
 * server last signed in to, then {@link DEFAULT_URL}) and which token (`--token`, then
 * `TOOLRUN_TOKEN`, then the one saved for that server by `toolrun login`).
 */
export class CliContext {
  readonly output: Output;
  readonly url: string;
  readonly token: string | undefined;
  readonly config: CliConfig;

  constructor(
    readonly env: CliEnv,
    opts: GlobalOptions,
  ) {
    this.output = new Output(opts.json === true, env);
    this.config = readConfig(env.configFile);
    this.url = normaliseUrl(opts.url ?? env.url ?? this.config.url ?? DEFAULT_URL);
    this.token = opts.token ?? env.token ?? this.config.logins[this.url]?.token;
  }

  /** A client without a token (for `auth.login`). */
  anonymousClient(): CliClient {
    return createCliClient({ url: this.url, token: undefined });
  }

  /** A signed-in client; not signed in is exit 7 with what to do. */
  client(): CliClient {
    if (this.token === undefined) {
      throw new CliError(
        `not signed in to ${this.url}. Sign in with: ${this.env.invokedAs} login <userId> (or pass --token / set TOOLRUN_TOKEN)`,
        EXIT.unauthenticated,
        'NOT_SIGNED_IN',
      );
    }
    return createCliClient({ url: this.url, token: this.token });
  }

  /** How to run another toolrun command in a hint: as the user typed this one. */
  command(args: string): string {
    return `${this.env.invokedAs} ${args}`;
  }
}
