import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SubscriptionCaps } from '@toolrun/api';
import { DEFAULT_SUBSCRIPTION_CAPS } from '@toolrun/api';
import { loadMcpConfig, type McpConfig, McpConfigError } from '@toolrun/mcp';
import { z } from 'zod';
import { devAuthExposureProblem } from './security/devAuthExposure.ts';
import type { SecurityOptions } from './security/securityOptions.ts';
import { DEFAULT_SECURITY } from './security/securityOptions.ts';
import type { TracingOptions } from './telemetry/startTracing.ts';

/** The repository root (this file is `apps/server/src/env.ts`). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Where `pnpm --filter @toolrun/web build` puts the console. */
export const DEFAULT_CONSOLE_DIR = resolve(REPO_ROOT, 'apps/web/dist');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
// OTLP over gRPC needs a client this server does not ship: refused at start rather than ignored.
const OTLP_PROTOCOLS = ['http/json', 'http/protobuf'] as const;

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

/** `true`/`false` (or `1`/`0`); unset means `fallback`. */
const flag = (fallback: boolean) =>
  optionalText
    .pipe(z.union([z.undefined(), z.enum(['true', 'false', '1', '0'])]))
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));

/** A comma-separated list; unset or empty is none. */
const list = optionalText.transform((v) =>
  v === undefined
    ? []
    : v
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
);

const origins = list.pipe(
  z.array(
    z.string().refine((o) => {
      try {
        const url = new URL(o);
        return (
          (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === o.replace(/\/$/, '').toLowerCase()
        );
      } catch {
        return false;
      }
    }, 'each must be an origin such as https://console.example.com (scheme, host and port only)'),
  ),
);

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
    TOOLRUN_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
    TOOLRUN_GRACE_MS: integer(10_000, 0, 600_000),
    TOOLRUN_MAX_BODY_BYTES: integer(1_048_576, 1024, 64 * 1_048_576),
    TOOLRUN_MAX_RUN_INPUT_BYTES: integer(65_536, 2, 16 * 1_048_576),
    TOOLRUN_MAX_CONCURRENT_RUNS_PER_USER: optionalInteger(1, 10_000),
    TOOLRUN_RUN_DEADLINE_MS: optionalInteger(1_000, 86_400_000),
    TOOLRUN_TOOL_TIMEOUT_MS: optionalInteger(100, 3_600_000),
    TOOLRUN_RATE_LIMIT_CAPACITY: optionalInteger(1, 1_000_000),
    TOOLRUN_RATE_LIMIT_REFILL_PER_SECOND: optionalText.pipe(
      z.union([z.undefined(), z.coerce.number<string>().positive().max(1_000_000)]),
    ),
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
    TOOLRUN_MCP_MAX_SESSIONS_PER_USER: integer(8, 1, 1_000),
    TOOLRUN_MCP_SESSION_IDLE_MS: integer(600_000, 1_000, 86_400_000),
    TOOLRUN_ALLOWED_HOSTS: list,
    TOOLRUN_ALLOWED_ORIGINS: origins,
    TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK: flag(false),
    TOOLRUN_DEV_ADMIN_LOGIN: flag(true),
    TOOLRUN_MAX_SUBSCRIPTIONS_PER_USER: integer(DEFAULT_SUBSCRIPTION_CAPS.perUser, 1, 100_000),
    TOOLRUN_MAX_SUBSCRIPTIONS_PER_CONNECTION: integer(DEFAULT_SUBSCRIPTION_CAPS.perConnection, 1, 100_000),
    TOOLRUN_MAX_SSE_STREAMS_PER_USER: integer(DEFAULT_SUBSCRIPTION_CAPS.ssePerUser, 1, 100_000),
    TOOLRUN_MAX_WS_CONNECTIONS_PER_USER: integer(DEFAULT_SECURITY.maxWsConnectionsPerUser, 1, 100_000),
    TOOLRUN_MAX_CONNECTIONS: integer(DEFAULT_SECURITY.maxConnections, 16, 1_000_000),
    TOOLRUN_HEADERS_TIMEOUT_MS: integer(DEFAULT_SECURITY.headersTimeoutMs, 1_000, 600_000),
    TOOLRUN_REQUEST_TIMEOUT_MS: integer(DEFAULT_SECURITY.requestTimeoutMs, 1_000, 3_600_000),
    TOOLRUN_KEEP_ALIVE_TIMEOUT_MS: integer(DEFAULT_SECURITY.keepAliveTimeoutMs, 100, 600_000),
    TOOLRUN_MCP_CONFIG: optionalText,
    TOOLRUN_AGUI_CANCEL_AFTER_CLOSE_MS: integer(5_000, 0, 600_000),
    TOOLRUN_APPROVAL_TIMEOUT_MS: integer(900_000, 1_000, 2_147_483_647),
    OTEL_SDK_DISABLED: optionalText,
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalText.pipe(z.url().optional()),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalText.pipe(z.url().optional()),
    OTEL_EXPORTER_OTLP_PROTOCOL: optionalText.pipe(z.enum(OTLP_PROTOCOLS).optional()),
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optionalText.pipe(z.enum(OTLP_PROTOCOLS).optional()),
    OTEL_SERVICE_NAME: optionalText,
    TOOLRUN_TRACE_CONTENT: z.enum(['true', 'false']).default('false'),
    TOOLRUN_CANARY_INTERVAL_MS: z.coerce
      .number()
      .int()
      .refine((v) => v === 0 || (v >= 1_000 && v <= 86_400_000), '0 (off) or 1000 to 86400000')
      .default(60_000),
    TOOLRUN_CANARY_TOKEN: optionalText,
    TOOLRUN_HEALTH_MAX_SCOPE_CREATE_MS: z.coerce.number().positive().max(60_000).default(50),
    TOOLRUN_HEALTH_MAX_LEGACY_SHARE: z.coerce.number().min(0).max(1).default(0.5),
    // Exactly-once starts and the run queue (issue #18).
    TOOLRUN_QUEUE_MAX_PER_USER: integer(16, 0, 10_000),
    TOOLRUN_QUEUE_MAX_WAIT_MS: integer(300_000, 1_000, 86_400_000),
    TOOLRUN_IDEMPOTENCY_TTL_MS: integer(86_400_000, 86_400_000, 30 * 86_400_000),
    // Cluster mode (issue #16): PostgreSQL and Redis shared by API and worker processes.
    TOOLRUN_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
    TOOLRUN_REDIS_URL: optionalText.pipe(
      z
        .string()
        .regex(/^rediss?:\/\/\S+$/i, 'must be a redis:// or rediss:// URL')
        .optional(),
    ),
    TOOLRUN_WORKER_CONCURRENCY: integer(64, 1, 10_000),
    TOOLRUN_RUN_LEASE_MS: integer(15_000, 1_000, 600_000),
  })
  .superRefine((env, ctx) => {
    const exposure = devAuthExposureProblem({
      host: env.HOST,
      authMode: env.TOOLRUN_AUTH_MODE,
      allowNetwork: env.TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK,
    });
    if (exposure !== undefined) ctx.addIssue({ code: 'custom', path: ['HOST'], message: exposure });
    if (env.TOOLRUN_HEADERS_TIMEOUT_MS > env.TOOLRUN_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOOLRUN_HEADERS_TIMEOUT_MS'],
        message: 'must not be longer than TOOLRUN_REQUEST_TIMEOUT_MS (the headers are part of the request)',
      });
    }
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
    if (env.TOOLRUN_REDIS_URL !== undefined && env.TOOLRUN_DATABASE_URL === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOOLRUN_REDIS_URL'],
        message: 'cluster mode needs TOOLRUN_DATABASE_URL too (PostgreSQL, shared by every process)',
      });
    }
    if (env.TOOLRUN_ROLE !== 'all' && (env.TOOLRUN_REDIS_URL === undefined || env.TOOLRUN_DATABASE_URL === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOOLRUN_ROLE'],
        message: `role '${env.TOOLRUN_ROLE}' is for cluster mode: set TOOLRUN_DATABASE_URL (PostgreSQL) and TOOLRUN_REDIS_URL, or leave TOOLRUN_ROLE unset (all)`,
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
  /** `auto`: readable lines when stdout is a terminal, JSON lines otherwise; `json` or `pretty` always. */
  logFormat: 'auto' | 'json' | 'pretty';
  graceMs: number;
  maxBodyBytes: number;
  maxRunInputBytes: number;
  tokenTtlSeconds: number;
  /** Overrides of the dispatcher's limits; absent fields keep its defaults. */
  limits: {
    maxConcurrentRunsPerUser?: number;
    runDeadlineMs?: number;
    toolTimeoutMs?: number;
    /** Users' (not admins') rate-limit bucket: run starts and tool calls take a token each. */
    rateLimit?: { user: { capacity?: number; refillPerSecond?: number } };
  };
  auth:
    | { mode: 'dev'; secret: string | undefined; adminLogin: boolean }
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
  /** Bounds of the MCP endpoint's sessions (`/mcp`): per user, and idle time before one is closed. */
  mcpServer: { maxSessionsPerUser: number; sessionIdleMs: number };
  /** Allowed hosts and origins, WebSocket connections per user, the connection bound, HTTP timeouts. */
  security: SecurityOptions;
  /** Open subscriptions per user, per WebSocket connection, and SSE streams per user. */
  subscriptionCaps: SubscriptionCaps;
  /** The development identity provider may serve on a non-loopback `HOST` (and warns at every start). */
  allowDevAuthOnNetwork: boolean;
  /** MCP servers whose tools join the registry (`TOOLRUN_MCP_CONFIG`, a JSON file); none when unset. */
  mcp: McpConfig | undefined;
  /** AG-UI: how long a run whose POST connection closed waits for a reattach before it is cancelled. */
  aguiCancelAfterCloseMs: number;
  /** How long a tool call waits for a person's approval unless its tool says otherwise. */
  approvalTimeoutMs: number;
  /** The golden-path canary: every `intervalMs` (0: off); `token` for external auth. */
  canary: { intervalMs: number; token: string | undefined };
  /** `/healthz` thresholds. */
  healthThresholds: { maxScopeCreateMs: number; maxLegacyShare: number };
  /** OpenTelemetry traces, on when an OTLP endpoint is set (and `OTEL_SDK_DISABLED` is not `true`). */
  tracing: TracingOptions | undefined;
  /** The run queue and idempotency keys: queued runs per user, how long one may wait, how long keys are kept. */
  starts: { maxQueuedRunsPerUser: number; maxQueueWaitMs: number; idempotencyTtlMs: number };
  /**
   * Cluster mode (`TOOLRUN_DATABASE_URL` is PostgreSQL and `TOOLRUN_REDIS_URL` is set): this process's
   * role and the Redis it shares; absent in single mode.
   */
  cluster:
    | { role: 'all' | 'api' | 'worker'; redisUrl: string; workerConcurrency: number; runLeaseMs: number }
    | undefined;
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
  if (e.TOOLRUN_AUTH_MODE === 'dev')
    auth = { mode: 'dev', secret: e.TOOLRUN_SECRET, adminLogin: e.TOOLRUN_DEV_ADMIN_LOGIN };
  else {
    const key =
      e.TOOLRUN_JWT_SECRET !== undefined
        ? { secret: e.TOOLRUN_JWT_SECRET }
        : // A PEM in an env file often has its newlines written as `\n`.
          { publicKeyPem: (e.TOOLRUN_JWT_PUBLIC_KEY ?? '').replaceAll('\\n', '\n') };
    auth = { mode: 'external', key, issuer: e.TOOLRUN_JWT_ISSUER, audience: e.TOOLRUN_JWT_AUDIENCE };
  }
  let mcp: McpConfig | undefined;
  if (e.TOOLRUN_MCP_CONFIG !== undefined) {
    try {
      // `${NAME}` references in the file read this same environment.
      mcp = loadMcpConfig(resolve(base, e.TOOLRUN_MCP_CONFIG), { env: source, dataDir });
    } catch (error) {
      if (!(error instanceof McpConfigError)) throw error;
      const lines = error.problems.map((p) => `  TOOLRUN_MCP_CONFIG ${p}`);
      throw new EnvError(`invalid configuration:\n${lines.join('\n')}`);
    }
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
    logFormat: e.TOOLRUN_LOG_FORMAT,
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
      ...(e.TOOLRUN_RATE_LIMIT_CAPACITY === undefined && e.TOOLRUN_RATE_LIMIT_REFILL_PER_SECOND === undefined
        ? {}
        : {
            rateLimit: {
              user: {
                ...(e.TOOLRUN_RATE_LIMIT_CAPACITY === undefined ? {} : { capacity: e.TOOLRUN_RATE_LIMIT_CAPACITY }),
                ...(e.TOOLRUN_RATE_LIMIT_REFILL_PER_SECOND === undefined
                  ? {}
                  : { refillPerSecond: e.TOOLRUN_RATE_LIMIT_REFILL_PER_SECOND }),
              },
            },
          }),
    },
    auth,
    openai,
    sse: e.TOOLRUN_SSE,
    dbWriter: e.TOOLRUN_DB_WRITER,
    stalledAfterMs: e.TOOLRUN_STALLED_AFTER_MS,
    mcpServer: {
      maxSessionsPerUser: e.TOOLRUN_MCP_MAX_SESSIONS_PER_USER,
      sessionIdleMs: e.TOOLRUN_MCP_SESSION_IDLE_MS,
    },
    security: {
      allowedHosts: e.TOOLRUN_ALLOWED_HOSTS,
      allowedOrigins: e.TOOLRUN_ALLOWED_ORIGINS.map((o) => new URL(o).origin),
      maxWsConnectionsPerUser: e.TOOLRUN_MAX_WS_CONNECTIONS_PER_USER,
      maxConnections: e.TOOLRUN_MAX_CONNECTIONS,
      headersTimeoutMs: e.TOOLRUN_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.TOOLRUN_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.TOOLRUN_KEEP_ALIVE_TIMEOUT_MS,
    },
    subscriptionCaps: {
      perUser: e.TOOLRUN_MAX_SUBSCRIPTIONS_PER_USER,
      perConnection: e.TOOLRUN_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      ssePerUser: e.TOOLRUN_MAX_SSE_STREAMS_PER_USER,
    },
    allowDevAuthOnNetwork: e.TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK,
    mcp,
    aguiCancelAfterCloseMs: e.TOOLRUN_AGUI_CANCEL_AFTER_CLOSE_MS,
    approvalTimeoutMs: e.TOOLRUN_APPROVAL_TIMEOUT_MS,
    tracing: tracingOf(e),
    canary: { intervalMs: e.TOOLRUN_CANARY_INTERVAL_MS, token: e.TOOLRUN_CANARY_TOKEN },
    healthThresholds: {
      maxScopeCreateMs: e.TOOLRUN_HEALTH_MAX_SCOPE_CREATE_MS,
      maxLegacyShare: e.TOOLRUN_HEALTH_MAX_LEGACY_SHARE,
    },
    starts: {
      maxQueuedRunsPerUser: e.TOOLRUN_QUEUE_MAX_PER_USER,
      maxQueueWaitMs: e.TOOLRUN_QUEUE_MAX_WAIT_MS,
      idempotencyTtlMs: e.TOOLRUN_IDEMPOTENCY_TTL_MS,
    },
    cluster:
      e.TOOLRUN_REDIS_URL === undefined
        ? undefined
        : {
            role: e.TOOLRUN_ROLE,
            redisUrl: e.TOOLRUN_REDIS_URL,
            workerConcurrency: e.TOOLRUN_WORKER_CONCURRENCY,
            runLeaseMs: e.TOOLRUN_RUN_LEASE_MS,
          },
  };
}

function tracingOf(e: z.output<typeof schema>): TracingOptions | undefined {
  // The signal-specific variable is the URL as is; the general one is a base the path is added to.
  const endpoint =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
      ? undefined
      : `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  if (endpoint === undefined || e.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return undefined;
  return {
    endpoint,
    // The OTLP default is protobuf over HTTP.
    protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    serviceName: e.OTEL_SERVICE_NAME ?? 'toolrun',
    recordContent: e.TOOLRUN_TRACE_CONTENT === 'true',
  };
}
