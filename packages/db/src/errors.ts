/**
 * Every failure `@toolrun/db` reports has one of these codes.
 *
 * - `NOT_TOOLRUN_DATABASE`: the file is not SQLite, or a SQLite file some other program made.
 * - `NEWER_SCHEMA`: the file was migrated by a newer Toolrun; this version will not touch it.
 * - `OUT_OF_ORDER`: a write whose seq is not the run's last seq + 1 (a gap or a duplicate).
 * - `INVALID_EVENT`: an event that breaks the run's contract (wrong envelope, unknown run,
 *   `tool_completed` without its `tool_executing`, a run ending with open tool calls).
 * - `RUN_FINISHED`: an event for a run that already has its `agent_completed`.
 * - `WRITE_FAILED`: SQLite refused or failed the transaction.
 * - `UNKNOWN_EVENT`: a feed cursor naming an event that is not (or no longer) stored.
 * - `INVALID_CURSOR`: a page cursor this package did not make.
 * - `INVALID_ARGUMENT`: an argument out of range (an empty user id or key, a bad limit).
 * - `CLOSED`: the database (or the sink) was closed.
 * - `UNAVAILABLE`: the database server (PostgreSQL) failed or could not be reached for a read.
 */
export const DB_ERROR_CODES = {
  NOT_TOOLRUN_DATABASE: 'NOT_TOOLRUN_DATABASE',
  NEWER_SCHEMA: 'NEWER_SCHEMA',
  OUT_OF_ORDER: 'OUT_OF_ORDER',
  INVALID_EVENT: 'INVALID_EVENT',
  RUN_FINISHED: 'RUN_FINISHED',
  WRITE_FAILED: 'WRITE_FAILED',
  UNKNOWN_EVENT: 'UNKNOWN_EVENT',
  INVALID_CURSOR: 'INVALID_CURSOR',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  CLOSED: 'CLOSED',
  UNAVAILABLE: 'UNAVAILABLE',
} as const;
export type DbErrorCode = keyof typeof DB_ERROR_CODES;

/** The one error type of the persistence layer. */
export class DbError extends Error {
  override readonly name = 'DbError';
  readonly code: DbErrorCode;

  constructor(code: DbErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
  }
}

/** Whether `value` is a {@link DbError}, optionally with a given code. */
export function isDbError(value: unknown, code?: DbErrorCode): value is DbError {
  return value instanceof DbError && (code === undefined || value.code === code);
}

/** Turns anything thrown into a {@link DbError}: a `DbError` stays as is, anything else becomes `fallback`. */
export function toDbError(value: unknown, fallback: DbErrorCode): DbError {
  if (value instanceof DbError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new DbError(fallback, message, { cause: value });
}
