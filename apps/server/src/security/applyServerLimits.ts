import type { Server } from 'node:http';
import type { ClientErrorLog } from './clientErrorLog.ts';
import type { SecurityOptions } from './securityOptions.ts';

/**
 * Explicit bounds on the node:http server instead of its defaults: how long a client may take to
 * send headers and a whole request (slow-loris), how long an idle keep-alive connection stays, and
 * how many connections are open at once (past it a new one is dropped at once and reported as a
 * `connection_limit` client error). Upgraded WebSocket sockets count against the same total.
 */
export function applyServerLimits(
  server: Server,
  limits: Pick<SecurityOptions, 'maxConnections' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>,
  clientErrors: ClientErrorLog,
): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.on('drop', (data?: { remoteAddress?: string }) => {
    clientErrors.report('connection_limit', data?.remoteAddress, { maxConnections: limits.maxConnections });
  });
}
