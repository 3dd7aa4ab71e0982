import type { DbErrorCode } from '@toolrun/db';
import { isDbError } from '@toolrun/db';
import type { DispatchErrorCode } from '@toolrun/dispatcher';
import { isDispatchError } from '@toolrun/dispatcher';
import { TRPCError } from '@trpc/server';
import type { AuthErrorCode } from './auth/AuthError.ts';
import { isAuthError } from './auth/AuthError.ts';
import { formatIssues, issuesMessage } from './formatIssues.ts';
import { isCapError } from './limits/CapError.ts';

/** A tRPC error code, as `new TRPCError({ code })` takes it. */
export type TRPCErrorCode = TRPCError['code'];

/**
 * The one mapping from dispatcher error codes to tRPC codes. A `Record` over every code, so a code
 * added to the dispatcher does not compile here until it is mapped.
 */
export const DISPATCH_TO_TRPC: Readonly<Record<DispatchErrorCode, TRPCErrorCode>> = {
  INVALID_CONTEXT: 'BAD_REQUEST',
  UNKNOWN_TOOL: 'NOT_FOUND',
  UNKNOWN_AGENT: 'NOT_FOUND',
  INVALID_INPUT: 'BAD_REQUEST',
  INVALID_OUTPUT: 'INTERNAL_SERVER_ERROR',
  INPUT_TOO_LARGE: 'BAD_REQUEST',
  ACCESS_DENIED: 'FORBIDDEN',
  TOOL_DISABLED: 'FORBIDDEN',
  TOOL_FAILED: 'INTERNAL_SERVER_ERROR',
  TOOL_TIMEOUT: 'TIMEOUT',
  TOOL_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  RUN_DEADLINE: 'TIMEOUT',
  CANCELLED: 'CLIENT_CLOSED_REQUEST',
  AGENT_FAILED: 'INTERNAL_SERVER_ERROR',
  CONCURRENT_RUN_LIMIT: 'TOO_MANY_REQUESTS',
  SCOPE_LIMIT: 'TOO_MANY_REQUESTS',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  PARALLEL_CALL_LIMIT: 'TOO_MANY_REQUESTS',
  CIRCUIT_OPEN: 'SERVICE_UNAVAILABLE',
  SCOPE_DISPOSED: 'CONFLICT',
  CONTRACT_VIOLATION: 'INTERNAL_SERVER_ERROR',
  SINK_FAILED: 'INTERNAL_SERVER_ERROR',
  INVALID_REGISTRY: 'INTERNAL_SERVER_ERROR',
  INTERRUPTED: 'SERVICE_UNAVAILABLE',
  SHUTTING_DOWN: 'SERVICE_UNAVAILABLE',
  SLOW_CONSUMER: 'SERVICE_UNAVAILABLE',
  RUN_ALREADY_STARTED: 'CONFLICT',
  RUN_FINISHED: 'CONFLICT',
  CONTEXT_IN_USE: 'CONFLICT',
  INVALID_SCOPE: 'BAD_REQUEST',
  INVALID_LIMITS: 'INTERNAL_SERVER_ERROR',
  // A result code of a handed-off call, never thrown.
  CLIENT_TOOL: 'CONFLICT',
  APPROVAL_DENIED: 'FORBIDDEN',
  APPROVAL_EXPIRED: 'TIMEOUT',
  APPROVAL_NOT_FOUND: 'NOT_FOUND',
  APPROVAL_DECIDED: 'CONFLICT',
  APPROVAL_FORBIDDEN: 'FORBIDDEN',
  STALLED: 'TIMEOUT',
};

/** The one mapping from `DbError` codes to tRPC codes. */
export const DB_TO_TRPC: Readonly<Record<DbErrorCode, TRPCErrorCode>> = {
  NOT_TOOLRUN_DATABASE: 'INTERNAL_SERVER_ERROR',
  NEWER_SCHEMA: 'INTERNAL_SERVER_ERROR',
  OUT_OF_ORDER: 'INTERNAL_SERVER_ERROR',
  INVALID_EVENT: 'INTERNAL_SERVER_ERROR',
  RUN_FINISHED: 'CONFLICT',
  WRITE_FAILED: 'INTERNAL_SERVER_ERROR',
  // A feed cursor naming an event that is not (or no longer) stored.
  UNKNOWN_EVENT: 'BAD_REQUEST',
  INVALID_CURSOR: 'BAD_REQUEST',
  INVALID_ARGUMENT: 'BAD_REQUEST',
  CLOSED: 'SERVICE_UNAVAILABLE',
  // The database server (PostgreSQL) failed or could not be reached.
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

/** How authentication failures reach the caller. */
export const AUTH_TO_TRPC: Readonly<Record<AuthErrorCode, TRPCErrorCode>> = {
  MISSING_TOKEN: 'UNAUTHORIZED',
  INVALID_TOKEN: 'UNAUTHORIZED',
  EXPIRED_TOKEN: 'UNAUTHORIZED',
  LOGIN_DISABLED: 'FORBIDDEN',
  INVALID_CONFIG: 'INTERNAL_SERVER_ERROR',
};

/**
 * Turns anything thrown below the API (a `DispatchError`, a `DbError`, an `AuthError`, a zod error)
 * into a `TRPCError` with the right code, keeping the original as `cause` (the error formatter reads
 * its code and issues from there). Unknown errors become `INTERNAL_SERVER_ERROR` with a generic
 * message, so nothing internal leaks.
 *
 * @example
 * try { factory.startRun(opts) } catch (error) { throw toTRPCError(error) }
 */
export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (isDispatchError(error)) {
    const issues = error.code === 'INVALID_INPUT' ? formatIssues(error.details) : undefined;
    const message = issues === undefined ? error.message : `${error.message}: ${issuesMessage(issues)}`;
    return new TRPCError({ code: DISPATCH_TO_TRPC[error.code], message, cause: error });
  }
  if (isAuthError(error))
    return new TRPCError({ code: AUTH_TO_TRPC[error.code], message: error.message, cause: error });
  if (isDbError(error)) return new TRPCError({ code: DB_TO_TRPC[error.code], message: error.message, cause: error });
  if (isCapError(error)) return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: error.message, cause: error });
  const issues = formatIssues(error);
  if (issues !== undefined && error instanceof Error) {
    return new TRPCError({ code: 'BAD_REQUEST', message: issuesMessage(issues), cause: error });
  }
  return new TRPCError({
    code: 'INTERNAL_SERVER_ERROR',
    message: 'Internal server error',
    ...(error instanceof Error ? { cause: error } : {}),
  });
}

/**
 * The code of the error below the API that caused `error`, when there is one (`RATE_LIMITED`,
 * `EXPIRED_TOKEN`, `SUBSCRIPTIONS_PER_USER`).
 */
export function reasonOf(error: TRPCError): string | undefined {
  const cause = error.cause;
  if (isDispatchError(cause) || isAuthError(cause) || isCapError(cause)) return cause.code;
  if (isDbError(cause)) return cause.code;
  return undefined;
}
