import type { QueuedRunEnding, ToolrunServices } from '@toolrun/api';
import { queuedRunEvents } from '@toolrun/api';
import type { QueuedRunRecord } from '@toolrun/db';
import { queuedRunRecordOf } from '@toolrun/db';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClusterKeys } from '../redis/keys.ts';
import { RUN_JOB_OPTIONS, type RunJobData } from './RunJob.ts';

/** Options of {@link sweepQueuedRuns}. */
export interface SweepOptions {
  readonly services: ToolrunServices;
  readonly queue: Queue<RunJobData>;
  readonly redis: Redis;
  readonly keys: ClusterKeys;
  /** Who sweeps (the lock's value). */
  readonly sweeperId: string;
  /** Rows younger than this are left alone (`runs.start` is still adding their job); default 2 s. */
  readonly minAgeMs?: number;
  /**
   * How long the sweep lock is held at most, default `takenStaleMs`: a sweeper that died holding it
   * delays the next sweep (and so the closing of its own taken runs) by at most that. Sweeps that
   * overlap (one outlived the lock) are safe, every step is a compare-and-set; the lock saves work.
   */
  readonly lockMs?: number;
  /**
   * A run whose take its worker has not renewed this long, its first event not committed (its worker
   * stalled), is closed `interrupted`, as is one whose worker died; default 15 s (the run lease).
   */
  readonly takenStaleMs?: number;
}

/** What one sweep did. */
export interface SweepResult {
  /** Runs whose job Redis had lost, or whose job's worker stopped before it took them, enqueued again. */
  readonly reenqueued: string[];
  /**
   * Runs that ended without starting: their worker died or stalled after it took them and before their
   * first commit (`interrupted`), or they waited too long.
   */
  readonly ended: string[];
  /** Rows of finished runs deleted. */
  readonly cleaned: number;
}

/**
 * Reconciles the durable `queued_runs` rows with the BullMQ queue, under a Redis lock so one process
 * sweeps at a time. A row a worker took (`queuedRuns.take`) is never enqueued again: its run is under
 * way, or ended (its row is then deleted), or its worker died or stalled before the run's first commit
 * (`queuedRuns.takeLost`: a dead worker's at once, a live one renews its takes): then the run ends
 * `interrupted` (`WORKER_LOST`), never executed twice. Of the rows nobody took, one whose job vanished
 * (Redis lost it, or `runs.start` could not enqueue) or failed (its worker died or stalled, its job
 * lock lapsed, before it took the run: nothing of the run began) is enqueued again (job id = run id
 * dedups); one waiting past its deadline ends `cancelled` (`QUEUE_TIMEOUT`).
 */
export async function sweepQueuedRuns(opts: SweepOptions): Promise<SweepResult | undefined> {
  const { services, queue, redis, keys } = opts;
  const { db, factory, sink, logger } = services;
  const lockMs = opts.lockMs ?? opts.takenStaleMs ?? 15_000;
  const taken = await redis.set(keys.sweepLock, opts.sweeperId, 'PX', lockMs, 'NX');
  if (taken !== 'OK') return undefined;
  const now = Date.now();
  const result = { reenqueued: [] as string[], ended: [] as string[], cleaned: 0 };
  /** Ends a run this process took without starting it. */
  const end = async (row: QueuedRunRecord, ending: QueuedRunEnding) => {
    await sink.write(
      queuedRunEvents({
        record: row,
        ending,
        // When it ends, not when the sweep began (a sweep over many rows takes a while under load).
        now: Date.now(),
        redaction: factory.limits.redaction,
        metrics: services.metrics,
      }),
    );
    await sink.flush();
    await db.queuedRuns.delete(row.runId);
    result.ended.push(row.runId);
    logger.warn({ runId: row.runId, ...ending }, 'queued run ended without starting');
  };
  try {
    for (const row of await db.queuedRuns.all()) {
      if (row.takenBy !== null) {
        // Under way, or ended: its worker, the reaper, or takeLost below close it; only a leftover row goes here.
        const run = await db.getRunRecord(row.runId);
        if (run !== undefined && run.status !== 'running' && (await db.queuedRuns.delete(row.runId))) {
          result.cleaned += 1;
        }
        continue;
      }
      if (now - row.enqueuedAt < (opts.minAgeMs ?? 2_000)) continue;
      const job = await queue.getJob(row.runId);
      if (job === undefined) {
        await queue.add('run', queuedRunRecordOf(row), { ...RUN_JOB_OPTIONS, jobId: row.runId });
        result.reenqueued.push(row.runId);
        logger.warn({ runId: row.runId }, 'the queue had lost a run: enqueued it again');
        continue;
      }
      const state = await job.getState();
      if (state === 'failed' && row.deadlineAt > now) {
        // Its worker died or stalled (its job lock lapsed) before it took the run: nothing of the run
        // began, so it waits again, for any worker (the take decides who executes it, once).
        const removed = await job.remove().then(
          () => true,
          () => false,
        );
        if (removed) {
          await queue.add('run', queuedRunRecordOf(row), { ...RUN_JOB_OPTIONS, jobId: row.runId });
          result.reenqueued.push(row.runId);
          logger.warn({ runId: row.runId }, 'a worker stopped before it took a run: enqueued it again');
        }
      } else if (state === 'failed') {
        await job.remove().catch(() => {});
        if (await db.queuedRuns.take(row.runId)) {
          const message = `the worker that was given this run stopped before it began, and the run had waited ${now - row.enqueuedAt} ms (the queue wait limit)`;
          await end(row, { status: 'cancelled', code: 'QUEUE_TIMEOUT', message });
        }
      } else if (row.deadlineAt <= now && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) {
        const removed = await job.remove().then(
          () => true,
          () => false,
        );
        if (removed && (await db.queuedRuns.take(row.runId))) {
          const message = `waited in the queue for ${now - row.enqueuedAt} ms without a free slot (the queue wait limit)`;
          await end(row, { status: 'cancelled', code: 'QUEUE_TIMEOUT', message });
        }
      }
    }
    // Taken, then their worker died or stalled before their first commit: their tools may have run.
    for (const row of await db.queuedRuns.takeLost(opts.takenStaleMs ?? 15_000)) {
      const message = 'the worker that took this run stopped before its first event was stored';
      await end(row, { status: 'interrupted', code: 'WORKER_LOST', message });
    }
  } finally {
    // Released only if still ours.
    await redis
      .eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
        1,
        keys.sweepLock,
        opts.sweeperId,
      )
      .catch(() => {});
  }
  return result;
}
