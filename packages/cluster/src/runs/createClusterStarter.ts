import type { RunStarter, RunStarterOptions, StartResult } from '@toolrun/api';
import { queuedRunEvents, queuedRunRecord, startOnce } from '@toolrun/api';
import type { QueuedRunRecord } from '@toolrun/db';
import type { UserExecutionContext } from '@toolrun/dispatcher';
import { TRPCError } from '@trpc/server';
import type { Queue } from 'bullmq';
import type { UserSlots } from '../limits/createUserSlots.ts';
import { RUN_JOB_OPTIONS, type RunJobData } from './RunJob.ts';

/** How long `runs.start` waits for Redis to take a job before it answers anyway (the sweep enqueues it later). */
const ENQUEUE_TIMEOUT_MS = 2_000;

/**
 * The run starter of an API process in cluster mode: `runs.start` checks the start (agent, input,
 * access), claims the idempotency key (in PostgreSQL, so a retry on another API process gets the same
 * run), writes the run's `queued_runs` row (the durable promise of the run) and adds a BullMQ job whose
 * id is the run id, then answers. A worker takes the job and runs it (`startRunWorker`). Should Redis
 * refuse or lose the job, the row stays and `sweepQueuedRuns` enqueues it again (the job id dedups).
 */
export function clusterStarter(
  queue: Queue<RunJobData>,
  slots: UserSlots,
): (deps: RunStarterOptions) => Promise<RunStarter> {
  return async (deps) => {
    const { factory, db, sink, logger, config } = deps;
    const now = deps.now ?? Date.now;

    /** Rows of runs that have not started yet (a started run's row lives on until its end). */
    const waiting = async (userId?: string): Promise<QueuedRunRecord[]> => {
      const rows = (await db.queuedRuns.all()).filter((row) => userId === undefined || row.userId === userId);
      const started = await Promise.all(rows.map(async (row) => (await db.getRunRecord(row.runId)) !== undefined));
      return rows.filter((_, i) => started[i] !== true);
    };
    /**
     * The row of `runId` while its run has not started: one run looked up in the database, not every
     * queued row (a lookup per row cost `runs.events` and `runs.cancel` a query per run in flight
     * across the cluster; found by the cluster load test, whose cancels took seconds).
     */
    const waitingRow = async (runId: string): Promise<QueuedRunRecord | undefined> => {
      const row = (await db.queuedRuns.all()).find((r) => r.runId === runId);
      if (row === undefined || (await db.getRunRecord(runId)) !== undefined) return undefined;
      return row;
    };
    const positioned = (rows: QueuedRunRecord[], row: QueuedRunRecord) => ({
      record: row,
      position: rows.filter((other) => other.userId === row.userId && other.enqueuedAt <= row.enqueuedAt).length,
    });

    const enqueue = async (context: UserExecutionContext, agent: string, input: unknown): Promise<void> => {
      const record = queuedRunRecord({
        context,
        agent,
        input,
        enqueuedAt: now(),
        maxQueueWaitMs: config.maxQueueWaitMs,
      });
      await db.queuedRuns.insert(record);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          queue.add('run', record, { ...RUN_JOB_OPTIONS, jobId: record.runId }),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`redis took no job within ${ENQUEUE_TIMEOUT_MS} ms`)),
              ENQUEUE_TIMEOUT_MS,
            );
          }),
        ]);
      } catch (error) {
        // Durable already: the sweep enqueues it once Redis is back.
        logger.warn({ err: error, runId: record.runId }, 'could not enqueue a run; the sweep will');
      } finally {
        clearTimeout(timer);
      }
      logger.info({ runId: record.runId, userId: record.userId, agent }, 'run enqueued');
    };

    const knows = async (runId: string): Promise<boolean> =>
      (await db.getRunRecord(runId)) !== undefined || (await db.queuedRuns.all()).some((row) => row.runId === runId);

    return {
      async start(principal, request) {
        const context = factory.createContext({
          userId: principal.userId,
          roles: principal.roles,
          ...(request.threadId === undefined ? {} : { threadId: request.threadId }),
        });
        const input = request.input ?? {};
        // Refusals that do not depend on load, here, before anything is written.
        factory.checkStart({ context, agent: request.agent, input });
        const { runId, threadId } = context;
        const limit = factory.limits.maxConcurrentRunsPerUser;
        const admit = async (): Promise<StartResult> => {
          const busy = (await slots.inUse(context.userId)) >= limit;
          if (busy && request.onBusy === 'reject') {
            throw new TRPCError({
              code: 'TOO_MANY_REQUESTS',
              message: `user ${context.userId} is at the concurrent-run limit (${limit}) and onBusy is 'reject'`,
            });
          }
          await enqueue(context, request.agent, input);
          if (!busy) return { runId, threadId };
          const position = (await waiting(context.userId)).findIndex((row) => row.runId === runId) + 1;
          return { runId, threadId, queued: { position: Math.max(1, position) } };
        };
        const key = request.idempotencyKey;
        if (key === undefined) return admit();
        return startOnce({
          keys: db.idempotencyKeys,
          userId: context.userId,
          key,
          start: { agent: request.agent, input, threadId: request.threadId },
          fresh: context,
          now: now(),
          ttlMs: config.idempotencyTtlMs,
          knows,
          admit,
          again: (earlier): StartResult => ({ runId: earlier.runId, threadId: earlier.threadId }),
        });
      },
      async queued(runId) {
        const row = await waitingRow(runId);
        return row === undefined ? undefined : positioned(await waiting(row.userId), row);
      },
      async listQueued(userId) {
        const rows = await waiting(userId);
        return rows.map((row) => positioned(rows, row));
      },
      async cancelQueued(runId, reason) {
        const row = await waitingRow(runId);
        if (row === undefined) return false;
        const job = await queue.getJob(runId);
        if (job !== undefined) {
          try {
            // Refused while a worker holds it: that worker cancels it (the broadcast).
            await job.remove();
          } catch {
            return false;
          }
        }
        const events = queuedRunEvents({
          record: row,
          ending: { status: 'cancelled', code: 'CANCELLED', message: reason },
          now: now(),
          redaction: factory.limits.redaction,
          metrics: deps.metrics,
        });
        try {
          await sink.write(events);
          await sink.flush();
        } catch (error) {
          // Redis lost the job while a worker was starting the run: the worker's start won (the run
          // exists now), so this is a cancel of a running run, which the caller broadcasts. Not a 500.
          if ((await db.getRunRecord(runId)) !== undefined) return false;
          throw error;
        }
        await db.queuedRuns.delete(runId);
        logger.info({ runId, userId: row.userId }, 'queued run cancelled before a worker took it');
        return true;
      },
      close() {},
    };
  };
}
