import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { ToolrunServices } from '@toolrun/api';
import { createContext } from '@toolrun/api';
import { createToolrunMcpServer } from './createToolrunMcpServer.ts';
import { type McpSession, McpSessions } from './McpSessions.ts';
import { toAuthInfo } from './principalAuth.ts';
import { readJsonBody } from './readJsonBody.ts';

/** The MCP endpoint's path. */
export const MCP_PATH = '/mcp';

/** Options of {@link createMcpHandler}. */
export interface McpHandlerOptions {
  readonly services: ToolrunServices;
  /** Largest POST body, in bytes (larger: `413`). */
  readonly maxBodyBytes: number;
  /** Open sessions per user; default 8. Opening one more closes the user's least recently used idle one. */
  readonly maxSessionsPerUser?: number;
  /** A session with no request for this long is closed; default 10 minutes. */
  readonly sessionIdleMs?: number;
}

/** The `/mcp` endpoint, for a node:http server. */
export interface McpHandler {
  /** Serves one request to `/mcp` (`POST`, `GET` or `DELETE`). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Open sessions, of everyone or of one user. */
  sessions(userId?: string): number;
  /** Closes every session (their calls in flight are cancelled) and stops the idle sweep. */
  close(): void;
}

export const DEFAULT_MCP_SESSIONS_PER_USER = 8;
export const DEFAULT_MCP_SESSION_IDLE_MS = 600_000;

/**
 * Toolrun as an MCP server over Streamable HTTP with stateful sessions (SDK
 * `StreamableHTTPServerTransport`, one low-level `Server` per session). Every request must carry the
 * API's bearer token, checked before the SDK sees anything (`401` without or with a bad one). A
 * session belongs to the user who opened it: another user's token on its id is `404`, exactly like
 * an unknown session, and is never served. Sessions are bounded per user and closed when idle;
 * POST bodies are bounded (`413`) and must be JSON (`400`).
 *
 * @example
 * const mcp = createMcpHandler({ services, maxBodyBytes: 1_048_576 });
 * createServer((req, res) => (req.url?.startsWith('/mcp') ? mcp.handle(req, res) : other(req, res)));
 */
export function createMcpHandler(opts: McpHandlerOptions): McpHandler {
  const { services } = opts;
  const idleMs = opts.sessionIdleMs ?? DEFAULT_MCP_SESSION_IDLE_MS;
  const sessions = new McpSessions({
    maxSessionsPerUser: opts.maxSessionsPerUser ?? DEFAULT_MCP_SESSIONS_PER_USER,
    idleMs,
  });
  const sweep = setInterval(() => sessions.sweep(performance.now()), Math.max(1_000, Math.min(idleMs / 2, 30_000)));
  sweep.unref();

  const serve = async (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      res.setHeader('Allow', 'GET, POST, DELETE');
      rpcError(res, 405, -32000, `method ${method} is not allowed on /mcp`);
      return;
    }
    // The token first: nothing else about the request is looked at before it is verified.
    const ctx = await createContext({ services, authorization: req.headers.authorization });
    if (ctx.principal === null) {
      const invalid = ctx.authError !== null;
      res.setHeader('WWW-Authenticate', invalid ? 'Bearer error="invalid_token"' : 'Bearer');
      rpcError(
        res,
        401,
        -32001,
        invalid ? `unauthorized: ${ctx.authError?.message}` : 'unauthorized: send Authorization: Bearer <token>',
      );
      return;
    }
    const principal = ctx.principal;
    req.auth = toAuthInfo(principal, ctx.tokenExpiresAtMs);

    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    let session: McpSession | undefined;
    if (sessionId !== undefined) {
      session = sessions.get(sessionId);
      // Another user's session is refused as if it did not exist: ids are never confirmed to others.
      if (session === undefined || session.userId !== principal.userId) {
        rpcError(res, 404, -32001, 'session not found: initialize a new one');
        return;
      }
      session.lastSeenMs = performance.now();
    }

    let body: unknown;
    if (method === 'POST') {
      const read = await readJsonBody(req, opts.maxBodyBytes);
      if (!read.ok) {
        if (read.status === 413) res.setHeader('Connection', 'close');
        rpcError(res, read.status, read.status === 413 ? -32600 : -32700, read.message);
        if (read.status === 413) res.once('finish', () => req.destroy());
        return;
      }
      body = read.value;
    }

    if (session === undefined) {
      if (method !== 'POST' || !isInitializeRequest(body)) {
        rpcError(res, 400, -32000, 'no session: send the mcp-session-id header, or an initialize request to open one');
        return;
      }
      if (!sessions.makeRoom(principal.userId)) {
        rpcError(res, 429, -32000, 'too many MCP sessions with calls in flight for this user');
        return;
      }
      session = await openSession(principal.userId);
    }

    const current = session;
    if (method === 'POST') {
      current.busy += 1;
      res.once('close', () => {
        current.busy -= 1;
        current.lastSeenMs = performance.now();
      });
    }
    await current.transport.handleRequest(req, res, body);
    if (current.transport.sessionId === undefined) sessions.close(current);
  };

  // The session is counted from the moment it is opened, so that concurrent initializations of one
  // user cannot overshoot the bound; one whose initialization fails is closed again.
  const openSession = async (userId: string): Promise<McpSession> => {
    const id = randomUUID();
    const server = createToolrunMcpServer(services, userId);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessionclosed: (closed) => sessions.remove(closed),
    });
    transport.onclose = () => sessions.remove(id);
    const session: McpSession = { id, userId, transport, server, lastSeenMs: performance.now(), busy: 0 };
    sessions.add(session);
    await server.connect(transport);
    return session;
  };

  return {
    handle(req, res) {
      serve(req, res).catch((error: unknown) => {
        services.logger.error({ err: error }, 'MCP request failed');
        if (!res.headersSent) {
          rpcError(res, 500, -32603, 'internal error');
        } else res.end();
      });
    },
    sessions: (userId) => (userId === undefined ? sessions.size : sessions.countFor(userId)),
    close() {
      clearInterval(sweep);
      sessions.closeAll();
    },
  };
}

/** A refusal as JSON-RPC error, the way MCP clients read one. */
function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
