import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isSecretKey } from '@toolrun/dispatcher';
import type { z } from 'zod';
import { McpConfigError } from './McpConfigError.ts';
import {
  type HttpSourceInput,
  httpSourceSchema,
  MAX_SOURCE_NAME,
  mcpConfigFileSchema,
  SOURCE_NAME_PATTERN,
  type StdioSourceInput,
  stdioSourceSchema,
  type ToolSettings,
} from './mcpConfigSchema.ts';

interface SourceCommon {
  readonly name: string;
  readonly access: 'user' | 'admin';
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly tools: Readonly<Record<string, ToolSettings>>;
}

/** A Streamable HTTP source, its header templates resolved. Always shared. */
export interface HttpSourceConfig extends SourceCommon {
  readonly transport: 'http';
  readonly scope: 'shared';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * A stdio source, its `${NAME}` references resolved and `{dataDir}` substituted. `{userId}` stays in
 * `args`, `env` and `cwd` until a user's process is started (`scope: 'user'`).
 */
export interface StdioSourceConfig extends SourceCommon {
  readonly transport: 'stdio';
  readonly scope: 'shared' | 'user';
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Absolute. */
  readonly cwd: string | undefined;
  readonly idleTimeoutMs: number;
  readonly maxProcesses: number;
}

export type SourceConfig = HttpSourceConfig | StdioSourceConfig;

/** The validated configuration: the sources in file order. */
export interface McpConfig {
  readonly sources: readonly SourceConfig[];
}

/** Where names in the file resolve. */
export interface McpConfigContext {
  /** The environment `${NAME}` references read (the server passes `process.env` from env.ts). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Toolrun's data folder, for `{dataDir}`. */
  readonly dataDir: string;
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Reads and validates the MCP configuration file (JSON). Throws {@link McpConfigError} listing every
 * problem: unreadable or malformed file, unknown fields, a `scope: 'user'` HTTP source, `${NAME}`
 * references to unset variables, and secret-looking headers or variables (`Authorization`, `*_TOKEN`,
 * `*KEY*`…) written literally instead of as a reference.
 *
 * @example
 * const config = loadMcpConfig('/etc/toolrun/mcp.json', { env: process.env, dataDir: '/var/lib/toolrun' });
 */
export function loadMcpConfig(path: string, context: McpConfigContext): McpConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new McpConfigError(`MCP configuration ${path}`, [`cannot be read: ${(error as Error).message}`]);
  }
  return parseMcpConfig(text, { ...context, baseDir: dirname(resolve(path)), label: path });
}

/** {@link loadMcpConfig} for text already read; `baseDir` anchors relative `cwd`s. */
export function parseMcpConfig(
  text: string,
  context: McpConfigContext & { baseDir: string; label?: string },
): McpConfig {
  const what = `MCP configuration ${context.label ?? ''}`.trimEnd();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new McpConfigError(what, [`is not JSON: ${(error as Error).message}`]);
  }
  const problems: string[] = [];
  const file = mcpConfigFileSchema.safeParse(json);
  if (!file.success) throw new McpConfigError(what, issuesOf(file.error.issues, ''));
  const sources: SourceConfig[] = [];
  for (const [name, raw] of Object.entries(file.data.sources)) {
    const at = `sources.${name}`;
    if (name.length > MAX_SOURCE_NAME || !SOURCE_NAME_PATTERN.test(name)) {
      problems.push(
        `${at}: a source name has at most ${MAX_SOURCE_NAME} characters: a letter, then letters, digits, - or single _ (not at the end)`,
      );
      continue;
    }
    const isHttp = 'url' in raw;
    if (isHttp === 'command' in raw) {
      problems.push(`${at}: give either a \`url\` (Streamable HTTP) or a \`command\` (stdio)`);
      continue;
    }
    if (isHttp) {
      const parsed = httpSourceSchema.safeParse(raw);
      if (!parsed.success) problems.push(...issuesOf(parsed.error.issues, at));
      else sources.push(httpSource(name, parsed.data, context, problems));
    } else {
      const parsed = stdioSourceSchema.safeParse(raw);
      if (!parsed.success) problems.push(...issuesOf(parsed.error.issues, at));
      else sources.push(stdioSource(name, parsed.data, context, problems));
    }
  }
  if (problems.length > 0) throw new McpConfigError(what, problems);
  return { sources };
}

function common(name: string, input: HttpSourceInput | StdioSourceInput): SourceCommon {
  const { access, timeoutMs, connectTimeoutMs, pingIntervalMs, tools } = input;
  return { name, access, timeoutMs, connectTimeoutMs, pingIntervalMs, tools };
}

function httpSource(name: string, input: HttpSourceInput, context: McpConfigContext, problems: string[]) {
  const at = `sources.${name}`;
  if (input.scope === 'user') problems.push(`${at}.scope: "user" needs a stdio source (one process per user)`);
  const headers = templates(input.headers, `${at}.headers`, context, problems);
  return { ...common(name, input), transport: 'http', scope: 'shared', url: input.url, headers } as const;
}

function stdioSource(
  name: string,
  input: StdioSourceInput & { cwd?: string | undefined },
  context: McpConfigContext & { baseDir: string },
  problems: string[],
): StdioSourceConfig {
  const at = `sources.${name}`;
  const data = (value: string) => value.replaceAll('{dataDir}', context.dataDir);
  if (input.scope === 'shared') {
    const all = [input.command, ...input.args, ...Object.values(input.env), input.cwd ?? ''];
    if (all.some((v) => v.includes('{userId}'))) {
      problems.push(`${at}: {userId} is substituted only in a scope: "user" source`);
    }
  }
  const env = templates(input.env, `${at}.env`, context, problems);
  return {
    ...common(name, input),
    transport: 'stdio',
    scope: input.scope,
    command: data(input.command),
    args: input.args.map(data),
    env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, data(v)])),
    cwd: input.cwd === undefined ? undefined : resolve(context.baseDir, data(input.cwd)),
    idleTimeoutMs: input.idleTimeoutMs,
    maxProcesses: input.maxProcesses,
  };
}

// Values may reference the environment; a secret-looking name must, so that no secret sits in the file.
function templates(
  values: Readonly<Record<string, string>>,
  at: string,
  context: McpConfigContext,
  problems: string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, template] of Object.entries(values)) {
    const references = [...template.matchAll(ENV_REFERENCE)];
    if (references.length === 0 && isSecretKey(key) && template.length > 0) {
      problems.push(
        `${at}.${key}: looks secret; write a reference to the environment instead, such as "Bearer \${MY_TOKEN}"`,
      );
      continue;
    }
    out[key] = template.replace(ENV_REFERENCE, (_whole, variable: string) => {
      const value = context.env[variable];
      if (value === undefined || value === '')
        problems.push(`${at}.${key}: environment variable ${variable} is not set`);
      return value ?? '';
    });
  }
  return out;
}

function issuesOf(issues: readonly z.core.$ZodIssue[], at: string): string[] {
  return issues.map((issue) => {
    const path = [at, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return `${path || '(file)'}: ${issue.message}`;
  });
}
