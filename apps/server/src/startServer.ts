import type { AddressInfo } from 'node:net';
import type { AuthOptions, ToolrunServices, ToolrunServicesOptions } from '@toolrun/api';
import { createToolrunServices, loadOrCreateSecret } from '@toolrun/api';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { DEFAULT_CONSOLE_DIR } from './env.ts';
import type { HttpServer } from './http.ts';
import { createHttpServer } from './http.ts';
import { createPrometheusMetrics } from './prometheus.ts';
import type { SseMode } from './sseSubscriptions.ts';

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
  const auth = opts.auth ?? devAuth(opts.dataDir);
  const prometheus = createPrometheusMetrics();
  const services = await createToolrunServices({
    database: opts.database,
    auth,
    logger,
    metricsPorts: [prometheus.port],
    config: {
      exposeStackTraces: opts.development ?? false,
      ...(opts.maxRunInputBytes === undefined ? {} : { maxRunInputBytes: opts.maxRunInputBytes }),
    },
    ...pick(opts),
  });
  prometheus.bind(services);

  let shuttingDown = false;
  const http = createHttpServer({
    services,
    logger,
    registry: prometheus.registry,
    consoleDir: opts.consoleDir ?? DEFAULT_CONSOLE_DIR,
    maxBodyBytes: opts.maxBodyBytes ?? 1_048_576,
    ...(opts.stalledAfterMs === undefined ? {} : { stalledAfterMs: opts.stalledAfterMs }),
    isShuttingDown: () => shuttingDown,
    sse: opts.sse ?? 'lean',
  });
  try {
    await new Promise<void>((resolve, reject) => {
      http.server.once('error', reject);
      http.server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
        http.server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await services.close();
    throw error;
  }
  const address = http.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => http.server.close(() => resolve()));
      const graceMs = opts.graceMs ?? 10_000;
      logger.info({ graceMs, activeRuns: services.factory.activeRuns().length }, 'draining');
      await services.drain({ graceMs });
      const until = Date.now() + STREAM_FLUSH_MS;
      while (services.subscriptions().runs > 0 && Date.now() < until) await sleep(20);
      http.broadcastReconnect();
      for (const client of http.wss.clients) client.close(1012, 'server restarting');
      http.server.closeAllConnections();
      await services.close();
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

function devAuth(dataDir: string | undefined): AuthOptions {
  if (dataDir === undefined)
    throw new Error('startServer needs `auth` or a `dataDir` to keep the development secret in');
  return { mode: 'dev', secret: loadOrCreateSecret(dataDir) };
}

type PassedThrough = Pick<
  ToolrunServicesOptions,
  'limits' | 'extraTools' | 'extraAgents' | 'openai' | 'maxQueuedEvents' | 'clock' | 'ids' | 'databaseWriter'
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
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
