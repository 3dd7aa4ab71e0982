import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { ToolrunServices, WhenWritable } from '@toolrun/api';
import { appRouter, createContext } from '@toolrun/api';
import type { TRPCError } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import type { TRPCRequestInfo } from '@trpc/server/unstable-core-do-not-import';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { createConsoleHandler } from './serveConsole.ts';
import type { SseMode } from './sseSubscriptions.ts';
import { createLeanSseHandler } from './sseSubscriptions.ts';
import { wsBackpressure } from './wsBackpressure.ts';

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  services: ToolrunServices;
  logger: Logger;
  registry: Registry;
  /** The built console (`apps/web/dist`); a readable 503 page while it does not exist. */
  consoleDir: string;
  /** Largest request body (HTTP) and message (WebSocket), in bytes. */
  maxBodyBytes: number;
  /** How long a subscription may wait for its connection to drain before the connection is closed. */
  stalledAfterMs?: number;
  /** Whether `/healthz` should report the server as stopping. */
  isShuttingDown: () => boolean;
  /**
   * Who writes SSE subscriptions: `lean` (default) writes tRPC's frames straight to the response,
   * `trpc` leaves them to tRPC's node-http handler. Everything else is tRPC's handler either way.
   */
  sse?: SseMode;
}

/** The node:http server and what shutdown needs to reach. */
export interface HttpServer {
  readonly server: Server;
  readonly wss: WebSocketServer;
  /** Tells WebSocket clients to reconnect (they resume their subscriptions by event id). */
  broadcastReconnect(): void;
}

/** The tRPC endpoint, for HTTP, SSE and WebSocket alike. */
export const TRPC_PATH = '/trpc';

/**
 * One port for everything: tRPC queries and mutations over HTTP and subscriptions over SSE at `/trpc`,
 * WebSocket upgrades at `/trpc`, `GET /healthz`, `GET /metrics` (Prometheus text) and the console at `/`.
 */
export function createHttpServer(opts: HttpServerOptions): HttpServer {
  const { services, logger } = opts;
  const onError = ({ error, path, type }: { error: TRPCError; path: string | undefined; type: string }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR')
      logger.error({ err: error.cause ?? error, path, type }, 'procedure failed');
    else logger.debug({ code: error.code, path, type, message: error.message }, 'procedure refused');
  };
  const contextOf = (req: IncomingMessage, info: TRPCRequestInfo) =>
    createContext({ services, authorization: req.headers.authorization, connectionParams: info.connectionParams });
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_PATH}/`,
    maxBodySize: opts.maxBodyBytes,
    createContext: ({ req, info }) => contextOf(req, info),
    onError,
  });
  const leanSse =
    (opts.sse ?? 'lean') === 'lean'
      ? createLeanSseHandler({
          router: appRouter,
          basePath: `${TRPC_PATH}/`,
          createContext: contextOf,
          onError,
          ...(opts.stalledAfterMs === undefined ? {} : { stalledAfterMs: opts.stalledAfterMs }),
        })
      : undefined;
  const serveConsole = createConsoleHandler(opts.consoleDir);

  const server = createServer((req, res) => {
    const path = pathname(req);
    if (path === TRPC_PATH || path.startsWith(`${TRPC_PATH}/`)) {
      if (leanSse?.(req, res) !== true) trpc(req, res);
      return;
    }
    if (path === '/healthz') {
      void healthz(opts, req, res);
      return;
    }
    if (path === '/metrics') {
      void metrics(opts, req, res);
      return;
    }
    serveConsole(req, res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxBodyBytes });
  // Each connection's backpressure, for its procedures' context (set when the upgrade completes).
  const writability = new WeakMap<WebSocket, WhenWritable>();
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: ({ req, res, info }) =>
      createContext({
        services,
        authorization: req.headers.authorization,
        connectionParams: info.connectionParams,
        whenWritable: writability.get(res),
      }),
    onError,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
  });
  server.on('upgrade', (req, socket, head) => {
    if (pathname(req) !== TRPC_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      writability.set(
        ws,
        wsBackpressure(ws, socket, opts.stalledAfterMs === undefined ? {} : { stalledAfterMs: opts.stalledAfterMs }),
      );
      wss.emit('connection', ws, req);
    });
  });

  return { server, wss, broadcastReconnect: () => handler.broadcastReconnectNotification() };
}

function pathname(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

async function healthz(opts: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const { services } = opts;
  let database = false;
  try {
    // A round trip to PostgreSQL; SQLite answers at once.
    database = await services.db.healthy();
  } catch {
    database = false;
  }
  const shuttingDown = opts.isShuttingDown();
  const ok = database && !shuttingDown;
  const body = {
    status: ok ? 'ok' : shuttingDown ? 'shutting_down' : 'unhealthy',
    database,
    liveScopes: services.factory.liveScopes(),
    activeRuns: services.factory.activeRuns().length,
    subscribers: services.hub.subscriberCount(),
    uptimeSeconds: Math.round(process.uptime()),
  };
  res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
}

async function metrics(opts: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  try {
    const text = await opts.registry.metrics();
    res.writeHead(200, { 'Content-Type': opts.registry.contentType, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  } catch (error) {
    opts.logger.error({ err: error }, 'metrics collection failed');
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n');
  }
}
