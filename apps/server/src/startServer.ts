import type { AddressInfo } from 'node:net';
import type { AuthOptions, ToolrunServices, ToolrunServicesOptions } from '@toolrun/api';
import { createToolrunServices, loadOrCreateSecret } from '@toolrun/api';
import { type Cluster, type ClusterRole, startCluster } from '@toolrun/cluster';
import { type McpConfig, startMcpToolSources } from '@toolrun/mcp';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { DEFAULT_CONSOLE_DIR } from './env.ts';
import type { HttpServer } from './http.ts';
import { createHttpServer } from './http.ts';
import { createHealthReporter } from './operations/healthReport.ts';
import type { HealthThresholds } from './operations/judgeHealth.ts';
import type { Canary } from './operations/startCanary.ts';
import { CANARY_USER_ID, startCanary } from './operations/startCanary.ts';
import type { PrometheusMetrics } from './prometheus.ts';
import { createPrometheusMetrics } from './prometheus.ts';
import { devAuthExposureProblem } from './security/devAuthExposure.ts';
import type { SecurityOptions } from './security/securityOptions.ts';
import type { SseMode } from './sseSubscriptions.ts';
import type { TracingOptions } from './telemetry/startTracing.ts';
import { startTracing } from './telemetry/startTracing.ts';

/** Options of {@link startServer}. Everything but `database` has a default that runs as is. */
export interface StartServerOptions extends PassedThrough {
  /** A `postgres://` URL (PostgreSQL), or a SQLite file (created if missing) or `':memory:'`. */
  database: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /**
   * Default: the development identity provider with the secret stored in `dataDir`
   * (generated there on first start).
   */
  auth?: AuthOptions;
  /** Where the generated development secret lives; required when `auth` is not given. */
  dataDir?: string;
  /** The built console; default `apps/web/dist`. */
  consoleDir?: string;
  /** A pino logger; default a silent one. */
  logger?: Logger;
  /** Largest request body and WebSocket message; default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * How long a subscription may wait for its connection to drain (its reader stuck) before the
   * connection is closed so the client resumes; default 30 s. SSE through the lean writer and WebSocket.
   */
  stalledAfterMs?: number;
  /** Largest `runs.start` input as JSON; default 64 KiB. */
  maxRunInputBytes?: number;
  /** How long `close()` lets active runs finish before cancelling them; default 10 s. */
  graceMs?: number;
  /** Stack traces in error responses; default false. */
  development?: boolean;
  /**
   * Who writes SSE subscriptions: `lean` (this server's writer, the default) or `trpc` (tRPC's
   * node-http handler). Same frames either way. `main.ts` passes `TOOLRUN_SSE` here.
   */
  sse?: SseMode;
  /** Bounds of the MCP endpoint's sessions: per user (default 8) and idle time (default 10 min). */
  mcpServer?: { maxSessionsPerUser?: number; sessionIdleMs?: number };
  /**
   * Allowed hosts and origins (beyond loopback and `host`), WebSocket connections per user, the total
   * connection bound and the HTTP timeouts; defaults in `DEFAULT_SECURITY` (`src/security/`).
   */
  security?: Partial<SecurityOptions>;
  /**
   * Lets the development identity provider serve on a non-loopback `host` (it refuses to start
   * there otherwise, and warns at every start when allowed). `TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK`.
   */
  allowDevAuthOnNetwork?: boolean;
  /**
   * MCP servers whose tools join the registry (`main.ts` passes `TOOLRUN_MCP_CONFIG`). Connected before
   * the server listens; their problems at start reject `startServer` (`McpConfigError`); closed on shutdown.
   */
  mcp?: McpConfig;
  /**
   * AG-UI: how long a run whose `POST /agui/<agent>` connection closed (an abort or a drop) waits for
   * a reattach before it is cancelled; default 5 s, `0` cancels at once.
   */
  aguiCancelAfterCloseMs?: number;
  /**
   * The golden-path canary: every `intervalMs` the server runs the calculator agent through its own
   * HTTP API as {@link CANARY_USER_ID} and checks the five events; 0 or absent: off. `token` is needed
   * with external auth (a token of the canary's identity from your identity provider).
   */
  canary?: { intervalMs: number; timeoutMs?: number; token?: string | undefined };
  /** `/healthz` thresholds; defaults in {@link DEFAULT_HEALTH_THRESHOLDS}. */
  healthThresholds?: Partial<HealthThresholds>;
  /** OpenTelemetry traces of runs, exported over OTLP/HTTP (`main.ts` passes `env.tracing`); off when absent. */
  tracing?: TracingOptions | undefined;
  /**
   * Cluster mode (`database` must be PostgreSQL): this process's role and the shared Redis. `api` serves
   * clients and executes no runs; `worker` executes runs and serves `/healthz` and `/metrics` only; `all`
   * both. See `@toolrun/cluster`. Single mode when absent.
   */
  cluster?: { role: ClusterRole; redisUrl: string; workerConcurrency?: number; runLeaseMs?: number } | undefined;
}

/** A running server. */
export interface RunningServer {
  /** `http://host:port` (append `/trpc` for the API). */
  readonly url: string;
  readonly port: number;
  readonly services: ToolrunServices;
  /** The node:http server and WebSocket server underneath, for tests and benchmarks. */
  readonly http: HttpServer;
  /**
   * Graceful shutdown: stops accepting connections, refuses new runs, lets active runs finish
   * within the grace period and cancels the rest (each ends with its events), commits every event,
   * lets finished runs' streams deliver them, then closes connections and the database. Idempotent.
   */
  close(): Promise<void>;
}

/** `/healthz` thresholds when not configured. */
export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = { maxScopeCreateMs: 50, maxLegacyShare: 0.5 };

// How long shutdown waits for streams of finished runs to send their last events.
const STREAM_FLUSH_MS = 2_000;

/**
 * Starts Toolrun on one port: tRPC over HTTP, SSE and WebSocket at `/trpc`, `/healthz`, `/metrics`
 * and the console at `/`. Used by `main.ts`, the tests and the benchmarks.
 *
 * @example
 * const server = await startServer({ database: ':memory:', auth: { mode: 'dev', secret: 'x'.repeat(32) } });
 * console.log(`${server.url}/trpc`);
 * await server.close();
 */
export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const listenHost = opts.host ?? '127.0.0.1';
  const authMode = opts.auth?.mode ?? 'dev';
  const exposure = devAuthExposureProblem({
    host: listenHost,
    authMode,
    allowNetwork: opts.allowDevAuthOnNetwork ?? false,
  });
  if (exposure !== undefined) throw new Error(exposure);
  const auth = opts.auth ?? devAuth(opts.dataDir);
  const prometheus = createPrometheusMetrics();
  const tracing = opts.tracing === undefined ? undefined : startTracing(opts.tracing);
  const toolSources =
    opts.mcp === undefined ? undefined : await startMcpToolSources(opts.mcp, { logger: logger.child({ part: 'mcp' }) });
  let cluster: Cluster | undefined;
  let services: ToolrunServices;
  try {
    if (opts.cluster !== undefined) {
      if (!/^postgres(ql)?:\/\//i.test(opts.database)) throw new Error('cluster mode needs a PostgreSQL database');
      cluster = await startCluster({
        redisUrl: opts.cluster.redisUrl,
        role: opts.cluster.role,
        logger: logger.child({ part: 'cluster' }),
        ...(opts.cluster.workerConcurrency === undefined ? {} : { workerConcurrency: opts.cluster.workerConcurrency }),
        ...(opts.cluster.runLeaseMs === undefined ? {} : { runLeaseMs: opts.cluster.runLeaseMs }),
      });
    }
    services = await createToolrunServices({
      database: opts.database,
      auth,
      logger,
      metricsPorts: [prometheus.port],
      ...(tracing === undefined ? {} : { runTracer: tracing.runTracer }),
      config: {
        exposeStackTraces: opts.development ?? false,
        ...(opts.maxRunInputBytes === undefined ? {} : { maxRunInputBytes: opts.maxRunInputBytes }),
      },
      ...(toolSources === undefined ? {} : { toolSources }),
      ...(cluster === undefined ? {} : { cluster: cluster.ports }),
      ...pick(opts),
    });
    await cluster?.attach(services);
  } catch (error) {
    await cluster?.close();
    await toolSources?.close();
    await tracing?.shutdown();
    throw error;
  }
  prometheus.bind(services);

  let shuttingDown = false;
  let canary: Canary | undefined;
  const health = createHealthReporter({
    services,
    canary: () => canary,
    thresholds: { ...DEFAULT_HEALTH_THRESHOLDS, ...opts.healthThresholds },
  });
  const http = createHttpServer({
    services,
    logger,
    registry: prometheus.registry,
    consoleDir: opts.consoleDir ?? DEFAULT_CONSOLE_DIR,
    maxBodyBytes: opts.maxBodyBytes ?? 1_048_576,
    ...(opts.stalledAfterMs === undefined ? {} : { stalledAfterMs: opts.stalledAfterMs }),
    isShuttingDown: () => shuttingDown,
    health,
    sse: opts.sse ?? 'lean',
    ...(opts.mcpServer === undefined ? {} : { mcp: opts.mcpServer }),
    host: listenHost,
    ...(opts.security === undefined ? {} : { security: opts.security }),
    ...(opts.aguiCancelAfterCloseMs === undefined ? {} : { aguiCancelAfterCloseMs: opts.aguiCancelAfterCloseMs }),
    opsOnly: opts.cluster?.role === 'worker',
  });
  try {
    await new Promise<void>((resolve, reject) => {
      http.server.once('error', reject);
      http.server.listen(opts.port ?? 0, listenHost, () => {
        http.server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await cluster?.close();
    await services.close();
    throw error;
  }
  const address = http.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  if (authMode === 'dev' && devAuthExposureProblem({ host: listenHost, authMode, allowNetwork: false }) !== undefined) {
    logger.warn(
      { host: listenHost, url },
      'the development identity provider is serving on a network interface (TOOLRUN_ALLOW_DEV_AUTH_ON_NETWORK=true): anyone who can reach this port can sign in as any user, admin included',
    );
  }
  // A worker has no API of its own to check.
  if (opts.cluster?.role !== 'worker') canary = startCanaryFor(opts, services, url, logger, prometheus);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      await canary?.stop();
      const closed = new Promise<void>((resolve) => http.server.close(() => resolve()));
      const graceMs = opts.graceMs ?? 10_000;
      logger.info({ graceMs, activeRuns: services.factory.activeRuns().length }, 'draining');
      // A worker takes no more runs; the ones it took finish or are cancelled by the drain.
      await cluster?.stopTakingRuns();
      await services.drain({ graceMs });
      const until = Date.now() + STREAM_FLUSH_MS;
      while (services.subscriptions().runs > 0 && Date.now() < until) await sleep(20);
      http.mcp.close();
      http.broadcastReconnect();
      for (const client of http.wss.clients) client.close(1012, 'server restarting');
      http.server.closeAllConnections();
      await cluster?.close();
      await services.close();
      await tracing
        ?.shutdown()
        .catch((error: unknown) => logger.warn({ err: error }, 'trace export failed at shutdown'));
      await Promise.race([closed, sleep(STREAM_FLUSH_MS)]);
      for (const client of http.wss.clients) client.terminate();
      await new Promise<void>((resolve) => http.wss.close(() => resolve()));
      logger.info('closed');
      logger.flush();
    })();
    return closing;
  };

  return { url, port: address.port, services, http, close };
}

function startCanaryFor(
  opts: StartServerOptions,
  services: ToolrunServices,
  url: string,
  logger: Logger,
  prometheus: PrometheusMetrics,
): Canary | undefined {
  const intervalMs = opts.canary?.intervalMs ?? 0;
  if (intervalMs <= 0) return undefined;
  const configured = opts.canary?.token;
  if (configured === undefined && services.auth.mode !== 'dev') {
    logger.warn('the canary is off: external auth needs TOOLRUN_CANARY_TOKEN, a token of its identity');
    return undefined;
  }
  // A wildcard listen address is not a place to connect to: the canary calls loopback.
  const target = url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, '//127.0.0.1');
  return startCanary({
    url: target,
    intervalMs,
    ...(opts.canary?.timeoutMs === undefined ? {} : { timeoutMs: opts.canary.timeoutMs }),
    token: async () => configured ?? (await services.auth.issue({ userId: CANARY_USER_ID, roles: ['user'] })).token,
    prune: () => services.db.prune({ olderThanMs: 0, userId: CANARY_USER_ID }),
    onResult: (result) => prometheus.canaryChecked(result),
    logger,
  });
}

function devAuth(dataDir: string | undefined): AuthOptions {
  if (dataDir === undefined)
    throw new Error('startServer needs `auth` or a `dataDir` to keep the development secret in');
  return { mode: 'dev', secret: loadOrCreateSecret(dataDir) };
}

type PassedThrough = Pick<
  ToolrunServicesOptions,
  | 'limits'
  | 'extraTools'
  | 'extraAgents'
  | 'openai'
  | 'maxQueuedEvents'
  | 'clock'
  | 'ids'
  | 'databaseWriter'
  | 'subscriptionCaps'
  | 'approvalTimeoutMs'
  | 'starts'
>;

function pick(opts: StartServerOptions): PassedThrough {
  const out: PassedThrough = {};
  if (opts.limits !== undefined) out.limits = opts.limits;
  if (opts.extraTools !== undefined) out.extraTools = opts.extraTools;
  if (opts.extraAgents !== undefined) out.extraAgents = opts.extraAgents;
  if (opts.openai !== undefined) out.openai = opts.openai;
  if (opts.maxQueuedEvents !== undefined) out.maxQueuedEvents = opts.maxQueuedEvents;
  if (opts.clock !== undefined) out.clock = opts.clock;
  if (opts.ids !== undefined) out.ids = opts.ids;
  if (opts.databaseWriter !== undefined) out.databaseWriter = opts.databaseWriter;
  if (opts.subscriptionCaps !== undefined) out.subscriptionCaps = opts.subscriptionCaps;
  if (opts.approvalTimeoutMs !== undefined) out.approvalTimeoutMs = opts.approvalTimeoutMs;
  if (opts.starts !== undefined) out.starts = opts.starts;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
