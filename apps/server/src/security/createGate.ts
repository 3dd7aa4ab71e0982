import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientErrorLog } from './clientErrorLog.ts';
import type { HostGuardVerdict } from './hostGuard.ts';

/** The first thing the HTTP server does with every request and every upgrade; see {@link createGate}. */
export interface Gate {
  /** `true` when the request may go on; otherwise it has been answered (421/403, empty body). */
  request(req: IncomingMessage, res: ServerResponse): boolean;
  /** `true` when the upgrade may go on; otherwise the socket has been answered and closed. */
  upgrade(req: IncomingMessage, socket: Duplex): boolean;
}

const REASONS = { 421: 'Misdirected Request', 403: 'Forbidden' } as const;

/**
 * Applies the Host/Origin guard at the very top of the request and upgrade handlers, so every path
 * (`/trpc` over HTTP, SSE and WebSocket, `/healthz`, `/metrics`, the console, and routes added later)
 * is covered without its handler doing anything. A refusal has an empty body and closes the
 * connection: nothing reaches tRPC, no token and no data leave. Each refusal is a client error
 * (rate-limited `warn`, counted in `/metrics`).
 */
export function createGate(opts: {
  guard: (headers: IncomingMessage['headers']) => HostGuardVerdict;
  clientErrors: ClientErrorLog;
}): Gate {
  const check = (req: IncomingMessage): HostGuardVerdict => {
    const verdict = opts.guard(req.headers);
    if (!verdict.ok) {
      opts.clientErrors.report(verdict.kind, req.socket.remoteAddress, {
        [verdict.kind === 'bad_host' ? 'host' : 'origin']: verdict.value,
        url: req.url,
      });
    }
    return verdict;
  };
  return {
    request(req, res) {
      const verdict = check(req);
      if (verdict.ok) return true;
      res.writeHead(verdict.status, { 'Content-Length': '0', Connection: 'close', 'Cache-Control': 'no-store' }).end();
      return false;
    },
    upgrade(req, socket) {
      const verdict = check(req);
      if (verdict.ok) return true;
      socket.end(
        `HTTP/1.1 ${verdict.status} ${REASONS[verdict.status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return false;
    },
  };
}
