import { randomUUID } from 'node:crypto';
import type { IdSource } from './ports.ts';

// Call ids are minted per tool call, on the hot path: a random per-process prefix and a counter
// keep them unique across processes and restarts without a UUID per call. The prefix is one flat
// string, so an id is one concatenation.
const CALL_ID_PREFIX = `call_${randomUUID().replaceAll('-', '').slice(0, 12)}_`;
let calls = 0;

/**
 * The next call number of this process (1, 2, 3 …): the package's own calls take their id from it
 * with {@link callIdOf}, so that a run can check their uniqueness on the number. Internal.
 */
export function mintCallNumber(): number {
  calls += 1;
  return calls;
}

/** The call id of call number `n`. Internal. */
export function callIdOf(n: number): string {
  return CALL_ID_PREFIX + n.toString(36);
}

/**
 * A new call's number: from this process's counter when `ids` is the package's own source, so the
 * run can check the id's uniqueness on the number; 0 for an injected source. Internal.
 */
export function mintedBy(ids: IdSource): number {
  return ids === randomIds ? mintCallNumber() : 0;
}

/** The id of a new call whose number {@link mintedBy} gave: from the number, or from the injected source. Internal. */
export function callIdFor(ids: IdSource, minted: number): string {
  return minted > 0 ? callIdOf(minted) : ids.callId();
}

/**
 * Random, unguessable run, request and thread ids (`run_<uuid>`, `<uuid>`, `thread_<uuid>`) and
 * unique call ids (`call_<process nonce>_<counter>`).
 */
export const randomIds: IdSource = Object.freeze({
  // Joined, not concatenated: one flat string rather than a pair (a live run holds its ids).
  runId: () => ['run_', randomUUID()].join(''),
  requestId: () => randomUUID(),
  callId: () => callIdOf(mintCallNumber()),
  threadId: () => ['thread_', randomUUID()].join(''),
});
