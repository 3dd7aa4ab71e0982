import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { AGUI_PATH, createAguiHandler } from '@toolrun/agui';
import type { ToolrunServices, WhenWritable } from '@toolrun/api';
import { appRouter, createContext, toTRPCError } from '@toolrun/api';
import type { McpHandler } from '@toolrun/mcp';
import { createMcpHandler, MCP_PATH } from '@toolrun/mcp';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import type { TRPCRequestInfo } from '@trpc/server/unstable-core-do-not-import';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { createDeliveryLatency } from './deliveryLatency.ts';
import { liveEventsJson } from './liveEventsJson.ts';
import type { HealthReport } from './operations/healthReport.ts';
import { applyServerLimits } from './security/applyServerLimits.ts';
import { createClientErrorLog } from './security/clientErrorLog.ts';
import { createGate } from './security/createGate.ts';
import { createHostGuard } from './security/hostGuard.ts';
import { reportTrpcError } from './security/reportTrpcError.ts';
import { setSecurityHeaders } from './security/securityHeaders.ts';
import type { SecurityOptions } from './security/securityOptions.ts';
import { DEFAULT_SECURITY } from './security/securityOptions.ts';
import { createWsConnectionCap } from './security/wsConnectionCap.ts';
import { createConsoleHandler } from './serveConsole.ts';
import type { SseMode } from './sseSubscriptions.ts';
import { createLeanSseHandler } from './sseSubscriptions.ts';
import { wsBackpressure } from './wsBackpressure.ts';
import { createWsEncoder, trackedFrame } from './wsEncoder.ts';
import type { WsMode } from './wsSubscriptions.ts';
import { applyLeanWsHandler } from './wsSubscriptions.ts';

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
  /** The `/healthz` report: a verdict with its reasons (see `operations/healthReport.ts`). */
  health: (shuttingDown: boolean) => Promise<HealthReport>;
  /**
   * Who writes SSE subscriptions: `lean` (default) writes tRPC's frames straight to the response,
   * `trpc` leaves them to tRPC's node-http handler. Everything else is tRPC's handler either way.
   */
  sse?: SseMode;
  /**
   * Who serves WebSocket connections: `lean` (default) writes subscription messages straight to the
   * socket (see `wsSubscriptions.ts`), `trpc` leaves everything to tRPC's `applyWSSHandler`. Same
   * messages either way.
   */
  ws?: WsMode;
  /** The MCP endpoint's session bounds (see `@toolrun/mcp`); its defaults when absent. */
  mcp?: { maxSessionsPerUser?: number; sessionIdleMs?: number };
  /** The interface the server listens on: its name is one the Host check accepts. Default `127.0.0.1`. */
  host?: string;
  /** Allowed hosts and origins, connection caps and timeouts; see `src/security/`. */
  security?: Partial<SecurityOptions>;
  /** AG-UI: how long a run whose `POST /agui/<agent>` connection closed waits for a reattach before it is cancelled. */
  aguiCancelAfterCloseMs?: number;
  /** Serve `/healthz` and `/metrics` only (a cluster's worker): anything else is 404, upgrades too. */
  opsOnly?: boolean;
}

/** The node:http server and what shutdown needs to reach. */
export interface HttpServer {
  readonly server: Server;
  readonly wss: WebSocketServer;
  /** Toolrun as an MCP server at `/mcp`. */
  readonly mcp: McpHandler;
  /** Tells WebSocket clients to reconnect (they resume their subscriptions by event id). */
  broadcastReconnect(): void;
}

/** The tRPC endpoint, for HTTP, SSE and WebSocket alike. */
export const TRPC_PATH = '/trpc';

/**
 * One port for everything: tRPC queries and mutations over HTTP and subscriptions over SSE at `/trpc`,
 * WebSocket upgrades at `/trpc`, MCP (Streamable HTTP) at `/mcp`, AG-UI at `/agui/`, `GET /healthz`,
 * `GET /metrics` (Prometheus text) and the console at `/`.
 */
export function createHttpServer(opts: HttpServerOptions): HttpServer {
  const { services, logger } = opts;
  const security = { ...DEFAULT_SECURITY, ...opts.security };
  const clientErrors = createClientErrorLog({ logger, registry: opts.registry });
  const onError = reportTrpcError({ logger, clientErrors });
  const gate = createGate({
    guard: createHostGuard({ host: opts.host ?? '127.0.0.1', ...security }),
    clientErrors,
  });
  const wsUsers = createWsConnectionCap(security.maxWsConnectionsPerUser);
  const latency = createDeliveryLatency(opts.registry);
  const contextOf = (req: IncomingMessage, info: TRPCRequestInfo) =>
    createContext({
      services,
      authorization: req.headers.authorization,
      connectionParams: info.connectionParams,
      connection: { transport: info.type === 'subscription' ? 'sse' : 'http', id: 'http' },
      traceparent: req.headers.traceparent,
      tracestate: req.headers.tracestate,
    });
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
          onDelivered: (data) => {
            if (Array.isArray(data)) latency.delivered('sse', data);
          },
          // The router has no transformer: a payload's data is its JSON as it is.
          encodeTracked: (data) => (Array.isArray(data) ? liveEventsJson(data) : undefined),
          ...(opts.stalledAfterMs === undefined ? {} : { stalledAfterMs: opts.stalledAfterMs }),
        })
      : undefined;
  const serveConsole = createConsoleHandler(opts.consoleDir);
  const mcp = createMcpHandler({ services, maxBodyBytes: opts.maxBodyBytes, ...opts.mcp });
  const agui = createAguiHandler({
    services,
    maxBodyBytes: opts.maxBodyBytes,
    stalledAfterMs: opts.stalledAfterMs,
    cancelAfterCloseMs: opts.aguiCancelAfterCloseMs,
  });

  const server = createServer((req, res) => {
    setSecurityHeaders(res);
    if (!gate.request(req, res)) return;
    const path = pathname(req);
    if (opts.opsOnly === true && path !== '/healthz' && path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found: this process is a worker (it serves /healthz and /metrics only)\n');
      return;
    }
    if (path === TRPC_PATH || path.startsWith(`${TRPC_PATH}/`)) {
      if (leanSse?.(req, res) !== true) trpc(req, res);
      return;
    }
    if (path === MCP_PATH) {
      mcp.handle(req, res);
      return;
    }
    if (path.startsWith(`${AGUI_PATH}/`)) {
      agui(req, res);
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
    setSecurityHeaders(res, 'console');
    serveConsole(req, res);
  });
  applyServerLimits(server, security, clientErrors);
  server.on('close', () => clientErrors.close());

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxBodyBytes });
  // Each connection's id and backpressure, for its procedures' context (set when the upgrade completes).
  const connections = new WeakMap<WebSocket, { id: string; whenWritable: WhenWritable }>();
  let connectionCount = 0;
  const createWsContext = async ({ req, res, info }: CreateWSSContextFnOptions) => {
    const connection = connections.get(res);
    const ctx = await createContext({
      services,
      authorization: req.headers.authorization,
      connectionParams: info.connectionParams,
      whenWritable: connection?.whenWritable,
      ...(connection === undefined ? {} : { connection: { transport: 'ws', id: connection.id } }),
    });
    // A connection that closed while its context was being created (its `close`, and with it the
    // release below, has run: the server closed it for an over-size frame, say) takes no slot.
    if (ctx.principal !== null && connection !== undefined && res.readyState !== res.CLOSED) {
      try {
        wsUsers.claim(connection.id, ctx.principal.userId);
      } catch (error) {
        throw toTRPCError(error);
      }
    }
    return ctx;
  };
  const keepAlive = { pingMs: 30_000, pongWaitMs: 10_000 };
  const handler =
    (opts.ws ?? 'lean') === 'lean'
      ? applyLeanWsHandler({
          wss,
          router: appRouter,
          createContext: createWsContext,
          onError,
          keepAlive,
          // The router has no transformer: a payload's data is its JSON as it is.
          trackedFrame,
          onDelivered: (events) => latency.delivered('ws', events),
        })
      : applyWSSHandler({
          wss,
          router: appRouter,
          createContext: createWsContext,
          onError,
          keepAlive: { enabled: true, ...keepAlive },
          experimental_encoder: createWsEncoder(latency),
        });
  server.on('upgrade', (req, socket, head) => {
    if (!gate.upgrade(req, socket)) return;
    if (pathname(req) !== TRPC_PATH || opts.opsOnly === true) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      connectionCount += 1;
      const id = `ws-${connectionCount}`;
      connections.set(ws, {
        id,
        whenWritable: wsBackpressure(
          ws,
          socket,
          opts.stalledAfterMs === undefined ? {} : { stalledAfterMs: opts.stalledAfterMs },
        ),
      });
      ws.once('close', () => wsUsers.release(id));
      wss.emit('connection', ws, req);
    });
  });

  return { server, wss, mcp, broadcastReconnect: () => handler.broadcastReconnectNotification() };
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
  const body = await opts.health(opts.isShuttingDown());
  const ok = body.status === 'ok' || body.status === 'degraded';
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
