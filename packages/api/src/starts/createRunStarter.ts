import { randomUUID } from 'node:crypto';
import type { PersistentSink, QueuedRunRecord, ToolrunDatabase } from '@toolrun/db';
import {
  createUserExecutionContext,
  type DispatcherFactory,
  type DispatcherMetrics,
  isDispatchError,
  type Role,
  type UserExecutionContext,
} from '@toolrun/dispatcher';
import { TRPCError } from '@trpc/server';
import type { Principal } from '../auth/createAuth.ts';
import type { Logger } from '../logger.ts';
import type { RunTracerPort, TraceCarrier } from '../tracing.ts';
import { type QueuedRunEnding, queuedRunEvents } from './closeQueuedRun.ts';
import { contextFor } from './contextFor.ts';
import { queuedRunRecord, traceContextOf } from './queuedRunRecord.ts';
import { RunQueue } from './RunQueue.ts';
import { startOnce } from './startOnce.ts';

/** Settings of the run queue and of idempotent starts. */
export interface StartsConfig {
  /** Runs one user may have waiting (beyond it `TOO_MANY_REQUESTS`). */
  readonly maxQueuedRunsPerUser: number;
  /** How long a run may wait for a slot before it ends `cancelled`. */
  readonly maxQueueWaitMs: number;
  /** How long an idempotency key is kept (at least), in milliseconds. */
  readonly idempotencyTtlMs: number;
  /** How often deadlines are checked, queues retried and old keys pruned. */
  readonly sweepIntervalMs: number;
}

export const DEFAULT_STARTS_CONFIG: StartsConfig = {
  maxQueuedRunsPerUser: 16,
  maxQueueWaitMs: 300_000,
  idempotencyTtlMs: 86_400_000,
  sweepIntervalMs: 1_000,
};

/** What `runs.start` takes. */
export interface StartRequest {
  readonly agent: string;
  readonly input: unknown;
  readonly threadId?: string | undefined;
  /** Per user, up to 255 characters: a repeat gets the same run back. */
  readonly idempotencyKey?: string | undefined;
  /** At the concurrent-run limit: wait in the queue (the default) or refuse with `TOO_MANY_REQUESTS`. */
  readonly onBusy?: 'queue' | 'reject' | undefined;
  /** The W3C trace context of the request that asks: the parent of the run's trace. */
  readonly traceContext?: TraceCarrier | null | undefined;
}

/** What `runs.start` answers: the run, and its place in the queue when it waits. */
export interface StartResult {
  runId: string;
  threadId: string;
  queued?: { position: number };
}

/** A run waiting in its user's queue, as the API shows it. */
export interface QueuedRunInfo {
  readonly record: QueuedRunRecord;
  readonly position: number;
}

/**
 * THE way runs start through the API (`runs.start`, and any other door that starts a run for a
 * user): idempotency keys, the per-user queue, and the durable acknowledgement.
 */
export interface RunStarter {
  /** Starts, queues, or answers the run an earlier start with the same key made. Throws `TRPCError`s. */
  start(principal: Principal, request: StartRequest): Promise<StartResult>;
  /** The run if it is waiting in a queue (async: a cluster's queue lives in the database). */
  queued(runId: string): Promise<QueuedRunInfo | undefined>;
  /** Queued runs of one user (or of everyone), in order. */
  listQueued(userId?: string): Promise<QueuedRunInfo[]>;
  /** Ends a queued run `cancelled` (its `agent_started` and `agent_completed`); false when it was not queued. */
  cancelQueued(runId: string, reason: string): Promise<boolean>;
  /** Stops the sweep timer. Queued runs stay in the database for the next start. */
  close(): void;
  /**
   * Cluster mode: makes a one-call tool run durable and hands it to a worker, like {@link start} an
   * agent run (`startToolRun` then follows it). Absent: tool runs execute in this process.
   */
  readonly startTool?: (principal: Principal, request: ToolStartRequest) => Promise<StartResult>;
}

/** What a one-call tool run starts with (`tools.run`, an MCP `tools/call`). */
export interface ToolStartRequest {
  readonly tool: string;
  readonly input: unknown;
  readonly threadId?: string | undefined;
  /** The W3C trace context of the request that asks: the parent of the run's trace. */
  readonly traceContext?: TraceCarrier | null | undefined;
}

/** Options of {@link createRunStarter}. */
export interface RunStarterOptions {
  readonly factory: DispatcherFactory;
  readonly db: ToolrunDatabase;
  readonly sink: PersistentSink;
  readonly metrics: DispatcherMetrics;
  readonly logger: Logger;
  readonly config: StartsConfig;
  /** Told each run's trace parent, when tracing is on. */
  readonly runTracer?: RunTracerPort | undefined;
  /** Wall-clock milliseconds. */
  readonly now?: () => number;
}

type Entry = QueuedRunRecord;

/**
 * Creates the run starter and restores the queue the database holds (runs queued before a restart
 * wait on, in their order, and start as slots free). A run's slot frees when its `done` resolves;
 * a sweep every `sweepIntervalMs` also retries (slots freed by runs started elsewhere, rate
 * limits), ends runs past their queue deadline and prunes expired idempotency keys.
 */
export async function createRunStarter(opts: RunStarterOptions): Promise<RunStarter> {
  const { factory, db, sink, logger, config } = opts;
  const now = opts.now ?? Date.now;
  const queue = new RunQueue<Entry>();
  // Queue rows still being written: a row is deleted only after its insert settled.
  const inserting = new Map<string, Promise<void>>();

  const launch = (
    context: UserExecutionContext,
    agent: string,
    input: unknown,
    queuedMs?: number,
    trace?: TraceCarrier | null,
  ): void => {
    // Before the run starts: its first tool call may ask for its trace context (`ctx.traceContext`),
    // and the tracer must know the parent by the run's end.
    if (trace) opts.runTracer?.setParent(context.runId, trace);
    const handle = factory.startRun({ context, agent, input, ...(queuedMs === undefined ? {} : { queuedMs }) });
    const log = logger.child({ correlationId: context.correlationId, runId: handle.runId });
    log.info({ agent, userId: context.userId, ...(queuedMs === undefined ? {} : { queuedMs }) }, 'run started');
    handle.done.then(
      (done) => {
        log.info({ status: done.status, durationMs: done.durationMs, toolCalls: done.toolCalls }, 'run finished');
        pump(context.userId);
      },
      (error: unknown) => log.error({ err: error }, 'run failed to finish'),
    );
  };

  // The queue row goes once the run's own events are durable: a crash in between leaves a row whose
  // run exists, which the next start drops (restore), never a run that was promised and is lost.
  const forget = (runId: string): void => {
    const stored = (inserting.get(runId) ?? Promise.resolve()).catch(() => {});
    Promise.all([sink.flush(), stored]).then(
      () =>
        db.queuedRuns
          .delete(runId)
          .catch((error: unknown) =>
            logger.warn({ err: error, runId }, 'could not delete a queue row (dropped at the next start)'),
          ),
      (error: unknown) => logger.warn({ err: error, runId }, 'could not commit a dequeued run'),
    );
  };

  const end = async (entry: Entry, ending: QueuedRunEnding): Promise<void> => {
    const events = queuedRunEvents({
      record: entry,
      ending,
      now: now(),
      redaction: factory.limits.redaction,
      metrics: opts.metrics,
    });
    logger.info({ runId: entry.runId, userId: entry.userId, ...ending }, 'queued run ended without starting');
    const written = sink.write(events);
    forget(entry.runId);
    await written;
  };

  /** Starts the user's queued runs, oldest first, while slots are free. */
  const pump = (userId: string): void => {
    for (let entry = queue.head(userId); entry !== undefined; entry = queue.head(userId)) {
      const context = createUserExecutionContext({
        userId: entry.userId,
        threadId: entry.threadId,
        runId: entry.runId,
        requestId: randomUUID(),
        roles: JSON.parse(entry.roles) as Role[],
      });
      try {
        const trace = traceContextOf(entry);
        launch(context, entry.agent, JSON.parse(entry.input), Math.max(0, now() - entry.enqueuedAt), trace);
      } catch (error) {
        // Busy, rate-limited or shutting down: it waits on (the next slot or sweep retries it).
        if (isDispatchError(error) && WAIT_ON.has(error.code)) return;
        queue.remove(entry.runId);
        const code = isDispatchError(error) ? error.code : 'AGENT_FAILED';
        const message = `the queued run could not start: ${error instanceof Error ? error.message : String(error)}`;
        end(entry, { status: 'failed', code, message }).catch((failure: unknown) =>
          logger.error({ err: failure, runId: entry.runId }, 'could not end a queued run'),
        );
        continue;
      }
      queue.remove(entry.runId);
      forget(entry.runId);
    }
  };

  const enqueue = async (context: UserExecutionContext, request: StartRequest, input: unknown): Promise<number> => {
    const waiting = queue.size(context.userId);
    if (request.onBusy === 'reject' || waiting >= config.maxQueuedRunsPerUser) {
      const why =
        request.onBusy === 'reject'
          ? `user ${context.userId} is at the concurrent-run limit (${factory.limits.maxConcurrentRunsPerUser}) and onBusy is 'reject'`
          : `user ${context.userId} already has ${waiting} runs queued (limit ${config.maxQueuedRunsPerUser})`;
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: why });
    }
    const entry = queuedRunRecord({
      context,
      agent: request.agent,
      input,
      enqueuedAt: now(),
      maxQueueWaitMs: config.maxQueueWaitMs,
      traceContext: request.traceContext,
    });
    // In the queue at once, so concurrent starts keep their order and the per-user bound holds;
    // answered only once its row is durable (the insert is a round trip on PostgreSQL).
    const position = queue.add(entry);
    const stored = db.queuedRuns.insert(entry);
    inserting.set(entry.runId, stored);
    try {
      await stored;
    } catch (error) {
      // Not durable: refused, unless a free slot already started it meanwhile.
      if (queue.remove(entry.runId) !== undefined) throw error;
    } finally {
      inserting.delete(entry.runId);
    }
    if (request.traceContext) opts.runTracer?.setParent(entry.runId, request.traceContext);
    logger.info({ runId: entry.runId, userId: entry.userId, agent: entry.agent }, 'run queued');
    return position;
  };

  // Starts the run now, or queues it: a user with runs waiting queues behind them (first in, first out).
  const admit = async (context: UserExecutionContext, request: StartRequest, input: unknown): Promise<StartResult> => {
    const { runId, threadId } = context;
    if (queue.size(context.userId) === 0) {
      try {
        launch(context, request.agent, input, undefined, request.traceContext);
        return { runId, threadId };
      } catch (error) {
        if (!isDispatchError(error, 'CONCURRENT_RUN_LIMIT') || request.onBusy === 'reject') throw error;
      }
    } else {
      factory.checkStart({ context, agent: request.agent, input });
    }
    return { runId, threadId, queued: { position: await enqueue(context, request, input) } };
  };

  // Whether anything knows the run a key names (a crash can lose a run before its first commit). A
  // run that just ended may be in neither the factory nor the database until the sink commits it.
  const knownNow = async (runId: string): Promise<boolean> =>
    queue.get(runId) !== undefined ||
    (await db.getRunRecord(runId)) !== undefined ||
    factory.activeRuns().some((run) => run.runId === runId);
  const knows = async (runId: string): Promise<boolean> => {
    if (await knownNow(runId)) return true;
    await sink.flush();
    return knownNow(runId);
  };

  const sweep = (): void => {
    const at = now();
    for (const entry of queue.entries()) {
      if (entry.deadlineAt > at || queue.remove(entry.runId) === undefined) continue;
      const message = `waited in the queue for ${config.maxQueueWaitMs} ms without a free slot (the queue wait limit)`;
      end(entry, { status: 'cancelled', code: 'QUEUE_TIMEOUT', message }).catch((error: unknown) =>
        logger.error({ err: error, runId: entry.runId }, 'could not end a queued run'),
      );
    }
    for (const userId of queue.users()) pump(userId);
    if (at - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = at;
      db.idempotencyKeys.prune(at - config.idempotencyTtlMs).then(
        (pruned) => {
          if (pruned > 0) logger.info({ pruned }, 'pruned expired idempotency keys');
        },
        (error: unknown) => logger.warn({ err: error }, 'pruning expired idempotency keys failed'),
      );
    }
  };
  let lastPrune = Number.NEGATIVE_INFINITY;

  // Restore: what was queued before this start waits on, except runs that did start (their row outlived them).
  // Only this process's rows and a dead process's (claim): another live process on the database starts its own.
  for (const record of await db.queuedRuns.claim()) {
    if ((await db.getRunRecord(record.runId)) !== undefined) await db.queuedRuns.delete(record.runId);
    else queue.add(record);
  }
  if (queue.size() > 0) logger.info({ queued: queue.size() }, 'restored queued runs');
  sweep();
  const timer = setInterval(() => {
    try {
      sweep();
    } catch (error) {
      logger.error({ err: error }, 'queue sweep failed');
    }
  }, config.sweepIntervalMs);
  timer.unref();

  const info = (entry: Entry): QueuedRunInfo => ({ record: entry, position: queue.position(entry.runId) ?? 0 });

  return {
    async start(principal, request) {
      const context = contextFor(factory, principal, request.threadId);
      const input = request.input ?? {};
      const result = await startOnce({
        keys: db.idempotencyKeys,
        userId: context.userId,
        key: request.idempotencyKey,
        start: { agent: request.agent, input, threadId: request.threadId },
        fresh: context,
        now: now(),
        ttlMs: config.idempotencyTtlMs,
        knows,
        admit: () => admit(context, request, input),
        again: ({ runId, threadId }): StartResult => {
          const position = queue.position(runId);
          return { runId, threadId, ...(position === undefined ? {} : { queued: { position } }) };
        },
      });
      // Acknowledge only a durable run: a client told of a run that a crash then loses could never
      // resume or cancel it. The run's channel hands agent_started to the sink in a microtask queued
      // before this await, so the flush that follows covers it.
      await Promise.resolve();
      await sink.flush();
      return result;
    },
    async queued(runId) {
      const entry = queue.get(runId);
      return entry === undefined ? undefined : info(entry);
    },
    async listQueued(userId) {
      return queue.entries(userId).map(info);
    },
    async cancelQueued(runId, reason) {
      const entry = queue.remove(runId);
      if (entry === undefined) return false;
      await end(entry, { status: 'cancelled', code: 'CANCELLED', message: reason });
      await sink.flush();
      return true;
    },
    close() {
      clearInterval(timer);
    },
  };
}

// Refusals that say "not now": the run keeps its place.
const WAIT_ON: ReadonlySet<string> = new Set(['CONCURRENT_RUN_LIMIT', 'RATE_LIMITED', 'SCOPE_LIMIT', 'SHUTTING_DOWN']);
const PRUNE_EVERY_MS = 600_000;
