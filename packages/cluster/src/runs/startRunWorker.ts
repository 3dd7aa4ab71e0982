import { randomUUID } from 'node:crypto';
import type { QueuedRunEnding, ToolRunInput, ToolrunServices } from '@toolrun/api';
import { executeToolRun, queuedRunEvents, traceContextOf } from '@toolrun/api';
import type { Role } from '@toolrun/dispatcher';
import { createUserExecutionContext, DIRECT_RUN_AGENT, DispatchError, isDispatchError } from '@toolrun/dispatcher';
import type { Job } from 'bullmq';
import { DelayedError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { UserSlot, UserSlots } from '../limits/createUserSlots.ts';
import type { ClusterKeys } from '../redis/keys.ts';
import { dispatchErrorCode } from './dispatchErrorCode.ts';
import type { RunJobData } from './RunJob.ts';
import type { createRunRegistry } from './runRegistry.ts';

/** Options of {@link startRunWorker}. */
export interface RunWorkerOptions {
  readonly services: ToolrunServices;
  /** BullMQ duplicates it for its blocking reads. */
  readonly connection: Redis;
  readonly keys: ClusterKeys;
  readonly registry: ReturnType<typeof createRunRegistry>;
  /** The cluster-wide per-user limit on concurrent runs. */
  readonly slots: UserSlots;
  /** Runs this worker executes at once; default 64. */
  readonly concurrency?: number;
  /** Whether a cancel for this run arrived before the run started here. */
  readonly cancelledEarly: (runId: string) => string | undefined;
  /** How long a run refused for now (the user's limits) waits before it is offered again; default 250 ms. */
  readonly retryDelayMs?: number;
  /**
   * The run lease, default 30 s: a job stays locked to this worker this long without renewal (BullMQ's
   * lock, so a job a dead worker held before taking its run is offered again within it), and the takes
   * of the runs this worker works on are renewed every third of it (only a dead or stalled worker's
   * are taken over by a sweep).
   */
  readonly leaseMs?: number;
}

// Refusals that say "not now": the job waits (delayed, not an attempt) and is offered again.
const WAIT_ON: ReadonlySet<string> = new Set(['CONCURRENT_RUN_LIMIT', 'RATE_LIMITED', 'SCOPE_LIMIT', 'SHUTTING_DOWN']);

/**
 * The worker side of the run queue: takes run jobs (`maxStalledCount: 0`, one attempt: a job whose
 * worker died is never offered again, its run is closed `interrupted` by the reaper) and executes each
 * with this process's dispatcher factory under the run id the API promised, committing to PostgreSQL as
 * in single mode, then deletes the run's `queued_runs` row. Before the run starts, the worker takes its
 * row in PostgreSQL (`queuedRuns.take`, a compare-and-set): only the one worker that took it executes
 * it, whatever the queue offers twice. A run whose user is at the concurrent-run limit across the
 * cluster (`slots`), or refused for now by this process's own limits, is delayed without counting as
 * an attempt; one refused for good ends `failed` without starting, as a queued run does in single mode.
 */
export function startRunWorker(opts: RunWorkerOptions): Worker<RunJobData> {
  const { services, keys, registry, slots } = opts;
  const { factory, db, sink, logger } = services;
  const retryDelayMs = opts.retryDelayMs ?? 250;
  const leaseMs = opts.leaseMs ?? 30_000;
  // Runs this worker took and works on (until its processor returns): their takes are renewed, so
  // that a slow first commit under load never looks like a dead or stalled worker to the sweep.
  const holding = new Set<string>();
  const renewal = setInterval(
    () => {
      if (holding.size > 0) {
        db.queuedRuns
          .renew([...holding])
          .catch((error: unknown) => logger.warn({ err: error }, 'could not renew the takes of queued runs'));
      }
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  renewal.unref();

  /** Ends a run this process took (`queuedRuns.take`) without starting it. */
  const endUnstarted = async (record: RunJobData, ending: QueuedRunEnding): Promise<void> => {
    const events = queuedRunEvents({
      record,
      ending,
      now: Date.now(),
      redaction: factory.limits.redaction,
      metrics: services.metrics,
    });
    await sink.write(events);
    await sink.flush();
    await db.queuedRuns.delete(record.runId);
    logger.info({ runId: record.runId, ...ending }, 'queued run ended without starting');
  };
  const delay = async (job: Job<RunJobData>, token: string): Promise<never> => {
    await job.moveToDelayed(Date.now() + retryDelayMs, token);
    throw new DelayedError();
  };

  const processor = async (job: Job<RunJobData>, token?: string): Promise<void> => {
    const record = job.data;
    const { runId, userId } = record;
    const log = logger.child({ runId });
    const early = opts.cancelledEarly(runId);
    if (early !== undefined) {
      if (await db.queuedRuns.take(runId)) {
        await endUnstarted(record, { status: 'cancelled', code: 'CANCELLED', message: early });
      }
      return;
    }
    // A one-call tool run (`tools.run`, an MCP tools/call) takes no slot, as in single mode.
    const direct = record.agent === DIRECT_RUN_AGENT;
    // The user's limit holds across the cluster: at it, the run waits (delayed, not an attempt).
    const limit = factory.limits.maxConcurrentRunsPerUser;
    let slot: UserSlot | undefined;
    if (!direct && token !== undefined) {
      slot = await slots.acquire(userId, runId, limit);
      if (slot === undefined) return delay(job, token);
    }
    // Taken in PostgreSQL (compare-and-set) before anything of it runs: a run taken once is never
    // offered again, whatever Redis loses; one taken elsewhere, or ended while queued, is not ours
    // (its slot, this acquisition's own, goes back: the winner keeps its own).
    if (!(await db.queuedRuns.take(runId))) {
      await slot?.release();
      log.info({}, 'the run was taken or ended elsewhere: not executed here');
      return;
    }
    holding.add(runId);
    try {
      await execute(job, token, record, log, slot);
    } finally {
      holding.delete(runId);
    }
  };

  /** Executes a run this worker took, or ends it without starting, or gives it back to wait. */
  const execute = async (
    job: Job<RunJobData>,
    token: string | undefined,
    record: RunJobData,
    log: ReturnType<typeof logger.child>,
    slot: UserSlot | undefined,
  ): Promise<void> => {
    const { runId, userId } = record;
    const direct = record.agent === DIRECT_RUN_AGENT;
    const context = createUserExecutionContext({
      userId,
      threadId: record.threadId,
      runId,
      requestId: randomUUID(),
      roles: JSON.parse(record.roles) as Role[],
    });
    // Its trace continues the request's that started it, on another process (the tracer needs the
    // parent before the run's first event).
    const trace = traceContextOf(record);
    if (trace !== undefined) services.runTracer?.setParent(runId, trace);
    let done: Promise<unknown>;
    try {
      if (direct) {
        const call = JSON.parse(record.input) as ToolRunInput;
        const handle = executeToolRun(services, { context, tool: call.tool, input: call.input });
        const result = await handle.result;
        // Refused before its run began (no call id: this worker is shutting down, say): nothing of it
        // ran or was stored, so it is started again, or ended, like any run that could not start.
        if (result.callId === '' && result.status !== 'success') {
          await handle.done;
          await sink.flush();
          if ((await db.getRunRecord(runId)) === undefined) {
            throw new DispatchError(dispatchErrorCode(result.error.code, 'TOOL_FAILED'), result.error.message);
          }
        }
        done = handle.done;
      } else {
        const handle = factory.startRun({
          context,
          agent: record.agent,
          input: JSON.parse(record.input),
          queuedMs: Math.max(0, Date.now() - record.enqueuedAt),
        });
        log.info({ agent: record.agent, userId }, 'run started');
        done = handle.done.then((ended) =>
          log.info({ status: ended.status, durationMs: ended.durationMs, toolCalls: ended.toolCalls }, 'run finished'),
        );
      }
    } catch (error) {
      await slot?.release();
      if (isDispatchError(error) && WAIT_ON.has(error.code) && token !== undefined) {
        // Nothing of it ran: it waits again, for any worker.
        await db.queuedRuns.untake(runId);
        return delay(job, token);
      }
      const code = isDispatchError(error) ? error.code : 'AGENT_FAILED';
      const message = `the queued run could not start: ${error instanceof Error ? error.message : String(error)}`;
      await endUnstarted(record, { status: 'failed', code, message });
      return;
    }
    await registry.add({ runId, userId, agent: record.agent, startedAt: new Date().toISOString() });
    // A cancel that arrived while the job was being taken.
    const late = opts.cancelledEarly(runId);
    if (late !== undefined) factory.cancelRun(runId, late);
    try {
      await done;
    } finally {
      await registry.remove(runId);
      await slot?.release();
    }
    // The row goes once the run's events are durable.
    await sink.flush();
    await db.queuedRuns.delete(runId);
  };

  const worker = new Worker<RunJobData>(keys.queueName, processor, {
    connection: opts.connection,
    prefix: keys.queuePrefix,
    concurrency: opts.concurrency ?? 64,
    // Never offered twice by BullMQ: a stalled job (its worker died or stalled) fails instead; the sweep
    // offers it again if its run was never taken, or closes the run if it was.
    maxStalledCount: 0,
    lockDuration: leaseMs,
    stalledInterval: Math.max(500, Math.floor(leaseMs / 2)),
  });
  worker.on('closed', () => clearInterval(renewal));
  worker.on('error', (error) => logger.warn({ err: error }, 'run worker: redis error'));
  worker.on('failed', (job, error) => {
    if (job !== undefined) logger.warn({ runId: job.id, err: error }, 'run job failed');
  });
  return worker;
}
