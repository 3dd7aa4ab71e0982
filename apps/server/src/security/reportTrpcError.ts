import type { IncomingMessage } from 'node:http';
import { isAuthError, isCapError } from '@toolrun/api';
import type { TRPCError } from '@trpc/server';
import type { Logger } from 'pino';
import type { ClientErrorKind, ClientErrorLog } from './clientErrorLog.ts';

/** What tRPC's handlers (HTTP, SSE, WebSocket) report through `onError`. */
export interface TrpcErrorReport {
  error: TRPCError;
  path: string | undefined;
  type: string;
  req?: IncomingMessage | undefined;
}

/**
 * The `onError` of every tRPC handler: a server fault (`INTERNAL_SERVER_ERROR` not caused by the
 * client) is an `error` with its stack; a client's mistake that tells an operator something (an
 * over-size or broken WebSocket frame, a bad token, a cap reached) goes to the rate-limited
 * {@link ClientErrorLog}; any other refusal (bad input, not found, …) is a `debug` line.
 */
export function reportTrpcError(opts: {
  logger: Logger;
  clientErrors: ClientErrorLog;
}): (report: TrpcErrorReport) => void {
  return ({ error, path, type, req }) => {
    const kind = clientErrorKind(error);
    if (kind !== undefined) {
      opts.clientErrors.report(kind, req?.socket.remoteAddress, {
        path,
        type,
        code: error.code,
        message: error.message,
      });
      return;
    }
    if (error.code === 'INTERNAL_SERVER_ERROR')
      opts.logger.error({ err: error.cause ?? error, path, type }, 'procedure failed');
    else opts.logger.debug({ code: error.code, path, type, message: error.message }, 'procedure refused');
  };
}

function clientErrorKind(error: TRPCError): ClientErrorKind | undefined {
  const cause: unknown = error.cause;
  // `ws` reports a peer that broke the protocol (RFC 6455 close 1002/1007/1009) as an error with a WS_ERR_ code.
  const wsCode =
    cause instanceof Error && 'code' in cause && typeof cause.code === 'string' && cause.code.startsWith('WS_ERR_')
      ? cause.code
      : undefined;
  if (wsCode !== undefined)
    return wsCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'ws_message_too_large' : 'ws_protocol';
  if (isAuthError(cause) && (cause.code === 'INVALID_TOKEN' || cause.code === 'EXPIRED_TOKEN')) return 'bad_token';
  if (isCapError(cause)) return 'over_cap';
  return undefined;
}
