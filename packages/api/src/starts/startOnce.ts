import type { IdempotencyKeyStore } from '@toolrun/db';
import { TRPCError } from '@trpc/server';
import { fingerprintStart } from './fingerprintStart.ts';

/** What a start with an idempotency key hands back: the run it made, or the one an earlier start made. */
export interface StartedRun {
  runId: string;
  threadId: string;
}

/**
 * Runs `admit` at most once per `(userId, key)` (without a key, just once: a start without an
 * idempotency key is not deduplicated): the first start claims the key for its run (the
 * claim is atomic in the database, one SQLite transaction or one PostgreSQL `INSERT … ON CONFLICT`,
 * so concurrent starts, in this process or another on the same database, cannot both win); a repeat with the same agent, input and thread gets that run back; a repeat with anything
 * else is `CONFLICT`. A key whose run nothing knows (lost by a crash before it was durable) is freed
 * and claimed again. A start that fails before its run exists gives the key back.
 */
export async function startOnce<T extends StartedRun>(opts: {
  keys: IdempotencyKeyStore;
  userId: string;
  key: string | undefined;
  start: { agent: string; input: unknown; threadId: string | undefined };
  /** The run this start would make. */
  fresh: StartedRun;
  now: number;
  ttlMs: number;
  /** Whether the run is known anywhere (queue, active runs, database, after a flush). */
  knows(runId: string): Promise<boolean>;
  admit(): T | Promise<T>;
  /** How a repeat answers for an earlier run. */
  again(earlier: StartedRun): T;
}): Promise<T> {
  const { keys, userId, key, fresh, now } = opts;
  if (key === undefined) return opts.admit();
  const fingerprint = fingerprintStart(opts.start);
  const record = { userId, key, fingerprint, runId: fresh.runId, threadId: fresh.threadId, createdAt: now };
  // Twice at most: a second lost run in a row would need a second crash.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const claim = await keys.claim(record, now - opts.ttlMs);
    if (claim.claimed) {
      try {
        return await opts.admit();
      } catch (error) {
        await keys.release(userId, key, fresh.runId);
        throw error;
      }
    }
    const { existing } = claim;
    if (existing.fingerprint !== fingerprint) {
      throw new TRPCError({
        code: 'CONFLICT',
        message:
          `idempotency key ${JSON.stringify(key.slice(0, 64))} was already used at ${new Date(existing.createdAt).toISOString()} ` +
          `for a start with another agent, input or thread (run ${existing.runId}); use a new key for a new start`,
      });
    }
    if (await opts.knows(existing.runId)) return opts.again(existing);
    await keys.release(userId, key, existing.runId);
  }
  throw new TRPCError({
    code: 'CONFLICT',
    message: `idempotency key ${JSON.stringify(key.slice(0, 64))} is busy; retry`,
  });
}
