import { DbError } from './errors.ts';

/** The largest page any listing returns. */
export const MAX_PAGE_SIZE = 1_000;

/**
 * An opaque keyset cursor: the sort key `(time, id)` of the last item of a page, as base64url JSON.
 * Keyset (not offset) paging keeps pages stable while new rows arrive.
 */
export function encodeCursor(time: number, id: string): string {
  return Buffer.from(JSON.stringify([time, id]), 'utf8').toString('base64url');
}

/** The inverse of {@link encodeCursor}; {@link DbError} `INVALID_CURSOR` for anything else. */
export function decodeCursor(cursor: string): { time: number; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new DbError('INVALID_CURSOR', 'the cursor is not one this API returned', { cause: error });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    !Number.isSafeInteger(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new DbError('INVALID_CURSOR', 'the cursor is not one this API returned');
  }
  return { time: Number(parsed[0]), id: String(parsed[1]) };
}

/** The largest page of events `eventsAfter` / `feedAfter` return when given a limit. */
export const MAX_EVENT_PAGE_SIZE = 10_000;

/** Checks a page size: an integer from 1 to `max`. */
export function checkLimit(limit: number, max = MAX_PAGE_SIZE): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) {
    throw new DbError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${max}, got ${limit}`);
  }
  return limit;
}

/** Splits an event id `${runId}:${seq}` (run ids may contain `:`; the seq follows the last one). */
export function splitEventId(id: string): { runId: string; seq: number } | undefined {
  const colon = id.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const seqText = id.slice(colon + 1);
  if (!/^[1-9][0-9]{0,15}$/.test(seqText)) return undefined;
  return { runId: id.slice(0, colon), seq: Number(seqText) };
}
