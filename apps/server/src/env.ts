import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The repository root (this file is `apps/server/src/env.ts`). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where `pnpm --filter @toolrun/web build` puts the console. */
export const DEFAULT_CONSOLE_DIR = resolve(REPO_ROOT, 'apps/web/dist');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Unset and empty (or blank) are the same: not configured. */
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const integer = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Unset means the dispatcher's own default. */
const optionalInteger = (min: number, max: number) =>
  optionalText.pipe(z.union([z.undefined(), z.coerce.number<string>().int().min(min).max(max)]));

const schema = z
  .object({
    NODE_ENV: optionalText,
    PORT: integer(3000, 0, 65_535),
    HOST: z.string().min(1).default('127.0.0.1'),
    TOOLRUN_DATA_DIR: optionalText,
    TOOLRUN_DB_PATH: optionalText,
    TOOLRUN_DATABASE_URL: optionalText.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\/\S+$/i, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    TOOLRUN_CONSOLE_DIR: optionalText,
    TOOLRUN_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    TOOLRUN_GRACE_MS: integer(10_000, 0, 600_000),
    TOOLRUN_MAX_BODY_BYTES: integer(1_048_576, 1024, 64 * 1_048_576),
    TOOLRUN_MAX_RUN_INPUT_BYTES: integer(65_536, 2, 16 * 1_048_576),
    TOOLRUN_MAX_CONCURRENT_RUNS_PER_USER: optionalInteger(1, 10_000),
    TOOLRUN_RUN_DEADLINE_MS: optionalInteger(1_000, 86_400_000),
    TOOLRUN_TOOL_TIMEOUT_MS: optionalInteger(100, 3_600_000),
    TOOLRUN_AUTH_MODE: z.enum(['dev', 'external']).default('dev'),
    TOOLRUN_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    TOOLRUN_TOKEN_TTL_SECONDS: integer(43_200, 60, 30 * 86_400),
    TOOLRUN_JWT_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    TOOLRUN_JWT_PUBLIC_KEY: optionalText,
    TOOLRUN_JWT_ISSUER: optionalText,
    TOOLRUN_JWT_AUDIENCE: optionalText,
    TOOLRUN_OPENAI_BASE_URL: optionalText.pipe(z.url().optional()),
    TOOLRUN_OPENAI_API_KEY: optionalText,
    TOOLRUN_OPENAI_MODEL: optionalText,
    TOOLRUN_SSE: z.enum(['lean', 'trpc']).default('lean'),
    TOOLRUN_DB_WRITER: z.enum(['thread', 'inline']).default('thread'),
    TOOLRUN_STALLED_AFTER_MS: integer(30_000, 100, 3_600_000),
  })
  .superRefine((env, ctx) => {
    if (env.TOOLRUN_AUTH_MODE === 'external' && !env.TOOLRUN_JWT_SECRET && !env.TOOLRUN_JWT_PUBLIC_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOOLRUN_AUTH_MODE'],
        message: 'external mode needs TOOLRUN_JWT_SECRET (HS256) or TOOLRUN_JWT_PUBLIC_KEY (PEM, RS256/ES256)',
      });
    }
    if (env.TOOLRUN_JWT_SECRET && env.TOOLRUN_JWT_PUBLIC_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOOLRUN_JWT_SECRET'],
        message: 'set TOOLRUN_JWT_SECRET or TOOLRUN_JWT_PUBLIC_KEY, not both',
      });
    }
    const openai = [env.TOOLRUN_OPENAI_BASE_URL, env.TOOLRUN_OPENAI_API_KEY, env.TOOLRUN_OPENAI_MODEL];
    if (openai.some((v) => v !== undefined) && openai.some((v) => v === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOOLRUN_OPENAI_BASE_URL'],
        message:
          'the OpenAI agent needs all three of TOOLRUN_OPENAI_BASE_URL, TOOLRUN_OPENAI_API_KEY, TOOLRUN_OPENAI_MODEL',
      });
    }
  });

/** The server's configuration, validated, with paths made absolute. */
export interface ServerEnv {
  /** `NODE_ENV=development`: error responses carry stack traces and logs are verbose about them. */
  development: boolean;
  port: number;
  host: string;
  dataDir: string;
  dbPath: string;
  /** `TOOLRUN_DATABASE_URL`: PostgreSQL storage instead of the SQLite file `dbPath` when set. */
  databaseUrl: string | undefined;
  consoleDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  graceMs: number;
  maxBodyBytes: number;
  maxRunInputBytes: number;
  tokenTtlSeconds: number;
  /** Overrides of the dispatcher's limits; absent fields keep its defaults. */
  limits: { maxConcurrentRunsPerUser?: number; runDeadlineMs?: number; toolTimeoutMs?: number };
  auth:
    | { mode: 'dev'; secret: string | undefined }
    | {
        mode: 'external';
        key: { secret: string } | { publicKeyPem: string };
        issuer: string | undefined;
        audience: string | undefined;
      };
  openai: { baseURL: string; apiKey: string; model: string } | undefined;
  /** Who writes SSE subscriptions: the server's lean writer, or tRPC's own handler (for comparison). */
  sse: 'lean' | 'trpc';
  /** Where the database commits: a worker thread (default) or the event loop. */
  dbWriter: 'thread' | 'inline';
  /** How long a subscription may wait for a stuck reader's connection to drain before closing it. */
  stalledAfterMs: number;
}

/** Thrown by {@link readEnv} with every problem listed, one per line. */
export class EnvError extends Error {
  override readonly name = 'EnvError';
}

/**
 * Reads and validates the configuration once. Relative paths resolve against the folder the command
 * was typed in (`INIT_CWD`, which pnpm sets, else the process's cwd); the defaults are absolute:
 * `<repo>/data`, `<repo>/data/toolrun.db`, `<repo>/apps/web/dist`.
 *
 * @example
 * const env = readEnv(process.env);
 */
export function readEnv(source: NodeJS.ProcessEnv): ServerEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new EnvError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const base = source.INIT_CWD !== undefined && isAbsolute(source.INIT_CWD) ? source.INIT_CWD : process.cwd();
  const dataDir = e.TOOLRUN_DATA_DIR === undefined ? resolve(REPO_ROOT, 'data') : resolve(base, e.TOOLRUN_DATA_DIR);
  const dbPath =
    e.TOOLRUN_DB_PATH === undefined
      ? resolve(dataDir, 'toolrun.db')
      : e.TOOLRUN_DB_PATH === ':memory:'
        ? ':memory:'
        : resolve(base, e.TOOLRUN_DB_PATH);
  const consoleDir = e.TOOLRUN_CONSOLE_DIR === undefined ? DEFAULT_CONSOLE_DIR : resolve(base, e.TOOLRUN_CONSOLE_DIR);
  let auth: ServerEnv['auth'];
  if (e.TOOLRUN_AUTH_MODE === 'dev') auth = { mode: 'dev', secret: e.TOOLRUN_SECRET };
  else {
    const key =
      e.TOOLRUN_JWT_SECRET !== undefined
        ? { secret: e.TOOLRUN_JWT_SECRET }
        : // A PEM in an env file often has its newlines written as `\n`.
          { publicKeyPem: (e.TOOLRUN_JWT_PUBLIC_KEY ?? '').replaceAll('\\n', '\n') };
    auth = { mode: 'external', key, issuer: e.TOOLRUN_JWT_ISSUER, audience: e.TOOLRUN_JWT_AUDIENCE };
  }
  const openai =
    e.TOOLRUN_OPENAI_BASE_URL !== undefined &&
    e.TOOLRUN_OPENAI_API_KEY !== undefined &&
    e.TOOLRUN_OPENAI_MODEL !== undefined
      ? { baseURL: e.TOOLRUN_OPENAI_BASE_URL, apiKey: e.TOOLRUN_OPENAI_API_KEY, model: e.TOOLRUN_OPENAI_MODEL }
      : undefined;
  return {
    development: e.NODE_ENV === 'development',
    port: e.PORT,
    host: e.HOST,
    dataDir,
    dbPath,
    databaseUrl: e.TOOLRUN_DATABASE_URL,
    consoleDir,
    logLevel: e.TOOLRUN_LOG_LEVEL,
    graceMs: e.TOOLRUN_GRACE_MS,
    maxBodyBytes: e.TOOLRUN_MAX_BODY_BYTES,
    maxRunInputBytes: e.TOOLRUN_MAX_RUN_INPUT_BYTES,
    tokenTtlSeconds: e.TOOLRUN_TOKEN_TTL_SECONDS,
    limits: {
      ...(e.TOOLRUN_MAX_CONCURRENT_RUNS_PER_USER === undefined
        ? {}
        : { maxConcurrentRunsPerUser: e.TOOLRUN_MAX_CONCURRENT_RUNS_PER_USER }),
      ...(e.TOOLRUN_RUN_DEADLINE_MS === undefined ? {} : { runDeadlineMs: e.TOOLRUN_RUN_DEADLINE_MS }),
      ...(e.TOOLRUN_TOOL_TIMEOUT_MS === undefined ? {} : { toolTimeoutMs: e.TOOLRUN_TOOL_TIMEOUT_MS }),
    },
    auth,
    openai,
    sse: e.TOOLRUN_SSE,
    dbWriter: e.TOOLRUN_DB_WRITER,
    stalledAfterMs: e.TOOLRUN_STALLED_AFTER_MS,
  };
}
