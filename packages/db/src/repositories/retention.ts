import { and, asc, eq, inArray, lt } from 'drizzle-orm';
import type { DrizzleDb } from '../drizzleDb.ts';
import { DbError } from '../errors.ts';
import { approvals, runEvents, runs, toolCalls } from '../schema.ts';

/** Options of {@link pruneHistory}. */
export interface PruneOptions {
  /** Prune runs that finished more than this long ago. Running runs are never pruned. */
  olderThanMs: number;
  /** Only this user's runs (the canary's own, say); everyone's when absent. */
  userId?: string;
  /** Runs per transaction (default 100, at most 1,000). */
  batchSize?: number;
  signal?: AbortSignal;
}

/**
 * The sink's writer thread may commit between a batch's read and its deletes, which fails a deferred
 * transaction's lock upgrade at once (SQLITE_BUSY) instead of waiting: take the write lock first.
 */
const IMMEDIATE = { behavior: 'immediate' } as const;

/** What a prune removed. */
export interface PruneResult {
  runs: number;
  events: number;
}

/**
 * Retention: deletes finished runs older than the cutoff with their events and tool calls, in
 * batches of `batchSize` runs, each its own short transaction, yielding to the event loop between
 * batches so the sink's group commits interleave. Aborting stops between batches (what was
 * deleted stays deleted) and rejects with the signal's reason.
 */
export async function pruneHistory(
  db: DrizzleDb,
  opts: PruneOptions & { now: () => number; ensureOpen: () => void },
): Promise<PruneResult> {
  const { cutoff, batchSize } = pruneBounds(opts);
  const total: PruneResult = { runs: 0, events: 0 };
  for (;;) {
    opts.signal?.throwIfAborted();
    opts.ensureOpen();
    const done = db.transaction((tx): PruneResult => {
      // finished_at is NULL while a run is running, so a live run is never selected.
      const ids = tx
        .select({ id: runs.id })
        .from(runs)
        .where(
          opts.userId === undefined
            ? lt(runs.finishedAt, cutoff)
            : and(lt(runs.finishedAt, cutoff), eq(runs.userId, opts.userId)),
        )
        .orderBy(asc(runs.finishedAt))
        .limit(batchSize)
        .all()
        .map((row) => row.id);
      if (ids.length === 0) return { runs: 0, events: 0 };
      const events = tx.delete(runEvents).where(inArray(runEvents.runId, ids)).run().changes;
      tx.delete(toolCalls).where(inArray(toolCalls.runId, ids)).run();
      tx.delete(approvals).where(inArray(approvals.runId, ids)).run();
      tx.delete(runs).where(inArray(runs.id, ids)).run();
      return { runs: ids.length, events };
    }, IMMEDIATE);
    total.runs += done.runs;
    total.events += done.events;
    if (done.runs < batchSize) return total;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Checks prune options ({@link DbError} `INVALID_ARGUMENT`); gives the cutoff time and the batch size. */
export function pruneBounds(opts: PruneOptions & { now: () => number }): { cutoff: number; batchSize: number } {
  const { olderThanMs } = opts;
  const batchSize = opts.batchSize ?? 100;
  if (!Number.isFinite(olderThanMs) || olderThanMs < 0) {
    throw new DbError('INVALID_ARGUMENT', 'olderThanMs must be a non-negative number');
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 1_000) {
    throw new DbError('INVALID_ARGUMENT', 'batchSize must be an integer from 1 to 1,000');
  }
  return { cutoff: opts.now() - olderThanMs, batchSize };
}
