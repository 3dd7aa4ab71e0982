import type { RunStarter, RunStarterOptions, StartResult, ToolRunInput, TraceCarrier } from '@toolrun/api';
import { contextFor, queuedRunEvents, queuedRunRecord, startOnce } from '@toolrun/api';
import type { QueuedRunRow } from '@toolrun/db';
import { queuedRunRecordOf } from '@toolrun/db';
import type { UserExecutionContext } from '@toolrun/dispatcher';
import { DIRECT_RUN_AGENT } from '@toolrun/dispatcher';
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

    /** Rows of runs no worker took yet (a taken run's row lives on until its end). */
    const waiting = async (userId?: string): Promise<QueuedRunRow[]> =>
      (await db.queuedRuns.all()).filter(
        (row) => row.takenBy === null && (userId === undefined || row.userId === userId),
      );
    const positioned = (rows: QueuedRunRow[], row: QueuedRunRow) => ({
      record: queuedRunRecordOf(row),
      position: rows.filter((other) => other.userId === row.userId && other.enqueuedAt <= row.enqueuedAt).length,
    });

    const enqueue = async (
      context: UserExecutionContext,
      agent: string,
      input: unknown,
      traceContext: TraceCarrier | null | undefined,
    ): Promise<void> => {
      // The request's trace context travels with the run, so its trace continues on the worker.
      const record = queuedRunRecord({
        context,
        agent,
        input,
        enqueuedAt: now(),
        maxQueueWaitMs: config.maxQueueWaitMs,
        traceContext,
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
      (await db.queuedRuns.get(runId)) !== undefined || (await db.getRunRecord(runId)) !== undefined;

    return {
      async start(principal, request) {
        const context = contextFor(factory, principal, request.threadId);
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
          await enqueue(context, request.agent, input, request.traceContext);
          if (!busy) return { runId, threadId };
          const position = (await waiting(context.userId)).findIndex((row) => row.runId === runId) + 1;
          return { runId, threadId, queued: { position: Math.max(1, position) } };
        };
        return startOnce({
          keys: db.idempotencyKeys,
          userId: context.userId,
          key: request.idempotencyKey,
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
        const row = await db.queuedRuns.get(runId);
        if (row === undefined) return undefined;
        // Taken by a worker, its first event not committed yet (a moment): still the user's run, next to start.
        if (row.takenBy !== null)
          return (await db.getRunRecord(runId)) === undefined ? positioned([row], row) : undefined;
        return positioned(await waiting(row.userId), row);
      },
      async listQueued(userId) {
        const rows = await waiting(userId);
        return rows.map((row) => positioned(rows, row));
      },
      async cancelQueued(runId, reason) {
        const row = await db.queuedRuns.get(runId);
        if (row === undefined || row.takenBy !== null) return false;
        const job = await queue.getJob(runId);
        if (job !== undefined) {
          try {
            // Refused while a worker holds it: that worker cancels it (the broadcast).
            await job.remove();
          } catch {
            return false;
          }
        }
        // Taken here, so that no worker starts it while it ends (one re-enqueued by a sweep meanwhile).
        if (!(await db.queuedRuns.take(runId))) return false;
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
          // Not ended: give the run back to the queue rather than leave it taken by nobody running it.
          await db.queuedRuns.untake(runId).catch(() => {});
          throw error;
        }
        await db.queuedRuns.delete(runId);
        logger.info({ runId, userId: row.userId }, 'queued run cancelled before a worker took it');
        return true;
      },
      async startTool(principal, request) {
        const context = contextFor(factory, principal, request.threadId);
        // A one-call run takes no slot (as in single mode): it is enqueued as is, for the next worker.
        const input: ToolRunInput = { tool: request.tool, input: request.input };
        await enqueue(context, DIRECT_RUN_AGENT, input, request.traceContext);
        return { runId: context.runId, threadId: context.threadId };
      },
      close() {},
    };
  };
}
