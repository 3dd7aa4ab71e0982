import { randomUUID } from 'node:crypto';
import type { IdSource } from './ports.ts';

// Call ids are minted per tool call, on the hot path: a random per-process prefix and a counter
// keep them unique across processes and restarts without a UUID per call.
const processNonce = randomUUID().replaceAll('-', '').slice(0, 12);
let calls = 0;

/**
 * Random, unguessable run, request and thread ids (`run_<uuid>`, `<uuid>`, `thread_<uuid>`) and
 * unique call ids (`call_<process nonce>_<counter>`).
 */
export const randomIds: IdSource = Object.freeze({
  runId: () => `run_${randomUUID()}`,
  requestId: () => randomUUID(),
  callId: () => `call_${processNonce}_${(++calls).toString(36)}`,
  threadId: () => `thread_${randomUUID()}`,
});
