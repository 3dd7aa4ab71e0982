import { userInfo } from 'node:os';
import { TRPCClientError } from '@trpc/client';
import { CliError } from './CliError.ts';
import { type CliConfig, readConfig, writeConfig } from './configFile.ts';
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
  token: string | undefined;
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

  /**
   * A signed-in client. Without any token, a server in development auth mode signs you in as your
   * OS user name (or `developer` when that name is not a usable id) and the token is saved, so the
   * first command after `pnpm start` just works; a server that issues no tokens (external mode) is
   * exit 7 with what to do.
   */
  async client(): Promise<CliClient> {
    if (this.token === undefined) this.token = await this.#devSignIn();
    return createCliClient({ url: this.url, token: this.token });
  }

  async #devSignIn(): Promise<string> {
    const anonymous = this.anonymousClient();
    for (const userId of [osUserName(), 'developer']) {
      if (userId === undefined) continue;
      try {
        const issued = await anonymous.auth.login.mutate({ userId });
        const config = readConfig(this.env.configFile);
        config.url ??= this.url;
        config.logins[this.url] = { token: issued.token, userId: issued.user.userId, expiresAt: issued.expiresAt };
        writeConfig(this.env.configFile, config);
        this.output.note(
          this.output.color.dim(
            `signed in to ${this.url} as ${issued.user.userId} (development sign-in; another user: ${this.command('login <userId>')})`,
          ),
        );
        return issued.token;
      } catch (error) {
        const code =
          error instanceof TRPCClientError ? (error.data as { code?: unknown } | undefined)?.code : undefined;
        if (code === 'BAD_REQUEST') continue;
        if (code === 'FORBIDDEN') break;
        throw error;
      }
    }
    throw new CliError(
      `not signed in to ${this.url}, which issues no development tokens. Sign in with: ${this.command('login --token <jwt>')} (or set TOOLRUN_TOKEN)`,
      EXIT.unauthenticated,
      'NOT_SIGNED_IN',
    );
  }

  /** How to run another toolrun command in a hint: as the user typed this one. */
  command(args: string): string {
    return `${this.env.invokedAs} ${args}`;
  }
}

function osUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
