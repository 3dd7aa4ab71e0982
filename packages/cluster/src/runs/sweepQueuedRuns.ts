import type { ToolrunServices } from '@toolrun/api';
import { queuedRunEvents } from '@toolrun/api';
import type { QueuedRunRecord } from '@toolrun/db';
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
  /** How long the sweep lock is held at most; default 10 s. */
  readonly lockMs?: number;
}

/** What one sweep did. */
export interface SweepResult {
  /** Runs whose job Redis had lost, enqueued again. */
  readonly reenqueued: string[];
  /** Runs that ended without starting: their worker died before they began, or they waited too long. */
  readonly ended: string[];
  /** Rows of finished runs deleted. */
  readonly cleaned: number;
}

/**
 * Reconciles the durable `queued_runs` rows with the BullMQ queue, under a Redis lock so one process
 * sweeps at a time: a row whose job vanished (Redis lost it, or `runs.start` could not enqueue) is
 * enqueued again (job id = run id dedups); a row whose job failed before its run began (the worker died
 * first) ends `failed` without starting, never executed; a row waiting past its deadline ends
 * `cancelled` (`QUEUE_TIMEOUT`); the row of a run that has ended is deleted.
 */
export async function sweepQueuedRuns(opts: SweepOptions): Promise<SweepResult | undefined> {
  const { services, queue, redis, keys } = opts;
  const { db, factory, sink, logger } = services;
  const lockMs = opts.lockMs ?? 10_000;
  const taken = await redis.set(keys.sweepLock, opts.sweeperId, 'PX', lockMs, 'NX');
  if (taken !== 'OK') return undefined;
  const now = Date.now();
  const result = { reenqueued: [] as string[], ended: [] as string[], cleaned: 0 };
  const end = async (row: QueuedRunRecord, status: 'cancelled' | 'failed', code: string, message: string) => {
    await sink.write(
      queuedRunEvents({
        record: row,
        ending: { status, code, message },
        now,
        redaction: factory.limits.redaction,
        metrics: services.metrics,
      }),
    );
    await sink.flush();
    await db.queuedRuns.delete(row.runId);
    result.ended.push(row.runId);
    logger.warn({ runId: row.runId, code }, 'queued run ended without starting');
  };
  try {
    for (const row of await db.queuedRuns.all()) {
      if (now - row.enqueuedAt < (opts.minAgeMs ?? 2_000)) continue;
      const run = await db.getRunRecord(row.runId);
      if (run !== undefined) {
        if (run.status !== 'running' && (await db.queuedRuns.delete(row.runId))) result.cleaned += 1;
        continue;
      }
      const job = await queue.getJob(row.runId);
      if (job === undefined) {
        await queue.add('run', row, { ...RUN_JOB_OPTIONS, jobId: row.runId });
        result.reenqueued.push(row.runId);
        logger.warn({ runId: row.runId }, 'the queue had lost a run: enqueued it again');
        continue;
      }
      const state = await job.getState();
      if (state === 'failed') {
        await job.remove().catch(() => {});
        await end(row, 'failed', 'WORKER_LOST', 'the worker that took this run stopped before the run began');
      } else if (row.deadlineAt <= now && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) {
        const removed = await job.remove().then(
          () => true,
          () => false,
        );
        if (removed) {
          const message = `waited in the queue for ${now - row.enqueuedAt} ms without a free slot (the queue wait limit)`;
          await end(row, 'cancelled', 'QUEUE_TIMEOUT', message);
        }
      }
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
