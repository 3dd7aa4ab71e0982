import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClusterPorts, ToolrunServices } from '@toolrun/api';
import { Queue, type Worker } from 'bullmq';
import type { ClusterLogger } from './ClusterLogger.ts';
import { createStreamTailer, type StreamTailer } from './events/createStreamTailer.ts';
import { createEventPublisher } from './events/publishEvents.ts';
import { createSharedRateLimit } from './limits/createSharedRateLimit.ts';
import { createUserSlots } from './limits/createUserSlots.ts';
import { connectRedis, whenReady } from './redis/connectRedis.ts';
import { clusterKeys } from './redis/keys.ts';
import { createApprovalRelay, serveApprovalDecisions } from './runs/approvalRelay.ts';
import { broadcastCancel, listenForCancels } from './runs/cancelBroadcast.ts';
import { clusterStarter } from './runs/createClusterStarter.ts';
import type { RunJobData } from './runs/RunJob.ts';
import { createRunRegistry } from './runs/runRegistry.ts';
import { startReaper } from './runs/startReaper.ts';
import { startRunWorker } from './runs/startRunWorker.ts';
import { sweepQueuedRuns } from './runs/sweepQueuedRuns.ts';

/** What a process of the cluster does: `api` serves clients, `worker` executes runs, `all` both. */
export type ClusterRole = 'all' | 'api' | 'worker';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** `redis://…`: the one Redis of the cluster. */
  readonly redisUrl: string;
  readonly role: ClusterRole;
  readonly logger: ClusterLogger;
  /** Runs one worker executes at once; default 64. */
  readonly workerConcurrency?: number;
  /** How often a worker reconciles queued runs with the queue; default 2 s. */
  readonly sweepIntervalMs?: number;
  /** Prefix of every Redis key; default `toolrun`. */
  readonly prefix?: string;
  /**
   * Per-run lease on PostgreSQL, default 15 s: a worker that dies or stalls this long loses its runs to
   * the reaper (closed `interrupted`), and its late writes are refused. Workers reap every third of it.
   */
  readonly runLeaseMs?: number;
  /**
   * How soon a process reports its users' rate-limit spends to the shared buckets; default 100 ms. A
   * burst can exceed a user's capacity by what the other processes spent within about this long.
   */
  readonly rateSyncIntervalMs?: number;
}

/** One process's part of the cluster. */
export interface Cluster {
  /** Give these to `createToolrunServices({ cluster })`. */
  readonly ports: ClusterPorts;
  /** Starts the tailer (api, all) and the run worker, cancel listener and sweep (worker, all). */
  attach(services: ToolrunServices): Promise<void>;
  /** A worker stops taking runs; the ones it executes go on (drain them, then {@link Cluster.close}). */
  stopTakingRuns(): Promise<void>;
  /** Waits for the runs this worker took to be finished and committed, then closes every connection. */
  close(): Promise<void>;
}

/** How long closing waits for the run jobs of runs the drain let go of (parked on approval). */
const PARKED_CLOSE_MS = 2_000;

/** Cancels this process heard of before the run started here, kept this long. */
const EARLY_CANCEL_MS = 60_000;

/**
 * Connects one process to the cluster's Redis for its role (PostgreSQL is the services' database):
 * API processes enqueue runs (BullMQ) and tail their users' event streams into their hub; workers
 * execute runs, publish their commits to Redis Streams, obey cancels broadcast over pub/sub, list their
 * runs in a registry with a TTL and sweep the queued runs. Call {@link Cluster.attach} once the services
 * exist.
 *
 * @example
 * const cluster = await startCluster({ redisUrl: 'redis://127.0.0.1:6379', role: 'api', logger });
 * const services = await createToolrunServices({ database: pgUrl, auth, cluster: cluster.ports });
 * await cluster.attach(services);
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const { role, logger } = opts;
  const keys = clusterKeys(opts.prefix);
  const serves = role === 'api' || role === 'all';
  const executes = role === 'worker' || role === 'all';
  const processId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const command = connectRedis({ url: opts.redisUrl, name: `toolrun-${role}`, logger });
  const publishing = connectRedis({ url: opts.redisUrl, name: 'toolrun-publish', logger, queueWhileDown: false });
  // The rate limit's syncs on a connection of their own: never behind a backlog, failing fast when down.
  const rating = connectRedis({ url: opts.redisUrl, name: 'toolrun-ratelimit', logger, queueWhileDown: false });
  try {
    await Promise.all([whenReady(command), whenReady(publishing), whenReady(rating)]);
  } catch (error) {
    command.disconnect();
    publishing.disconnect();
    rating.disconnect();
    throw error;
  }
  const queue = new Queue<RunJobData>(keys.queueName, { connection: command, prefix: keys.queuePrefix });
  queue.on('error', (error) => logger.warn({ err: error }, 'run queue: redis error'));
  const publisher = createEventPublisher({ redis: publishing, keys, logger });
  const registry = createRunRegistry({ redis: command, keys, workerId: processId });
  const runLeaseMs = opts.runLeaseMs ?? 15_000;
  // A slot outlives its worker by at most one lease: none leaks.
  const slots = createUserSlots({ redis: command, keys, ttlMs: runLeaseMs });
  // Every role: workers take tokens for run starts and tool calls, and so would any run an API process executed.
  const rateLimit = createSharedRateLimit({
    redis: rating,
    keys,
    logger,
    ...(opts.rateSyncIntervalMs === undefined ? {} : { syncIntervalMs: opts.rateSyncIntervalMs }),
  });

  let tailer: StreamTailer | undefined;
  let worker: Worker<RunJobData> | undefined;
  let stopListening: (() => void) | undefined;
  // Cancels and relayed approval decisions (workers), answers to relayed decisions (API processes).
  const subscriber = connectRedis({ url: opts.redisUrl, name: 'toolrun-pubsub', logger });
  let stopServingApprovals: (() => void) | undefined;
  const relay = serves ? await createApprovalRelay({ subscriber, command, keys, logger }) : undefined;
  let sweepTimer: ReturnType<typeof setInterval> | undefined;
  let stopReaper: (() => void) | undefined;
  let fenced: ((runIds: readonly string[]) => void) | undefined;
  let attached: ToolrunServices | undefined;
  const early = new Map<string, { reason: string; at: number }>();
  // Subscriptions opened before attach (none in practice) are watched from attach on.
  let watch: ((userId: string | null) => () => void) | undefined;

  const ports: ClusterPorts = {
    // Every role: a worker must never start queued runs itself (single mode's starter restores and
    // launches them), only through the queue.
    createStarter: clusterStarter(queue, slots),
    onCommitted: (events) => publisher.publish(events),
    publishToHub: false,
    watchSubscriptions: (userId) => watch?.(userId) ?? (() => {}),
    feedFromDatabase: true,
    runLeaseMs,
    onFenced: (runIds) => fenced?.(runIds),
    activeRuns: async () =>
      (await registry.all()).map(({ runId, userId, agent, startedAt }) => ({ runId, userId, agent, startedAt })),
    executesRuns: executes,
    rateLimiter: rateLimit,
    ...(relay === undefined ? {} : { decideApproval: (decision) => relay.decide(decision) }),
    async cancelRun(runId, reason) {
      // One round trip for both (pipelined on the connection): the cancel out, and whether a worker runs it.
      const [, registered] = await Promise.all([
        broadcastCancel(command, keys, { runId, reason }),
        registry.has(runId),
      ]);
      if (registered) return true;
      // Its worker may not have registered it yet: the database says whether it is still under way.
      return (await attached?.db.getRunRecord(runId))?.status === 'running';
    },
  };

  return {
    ports,
    async attach(services) {
      attached = services;
      // Runs closed by crash recovery when this process opened the database: their followers see the end.
      if (services.db.recovered.length > 0) publisher.publish(services.db.recovered);
      fenced = (runIds) => {
        // Another process closed these runs (this one stalled past its lease): stop them here, write nothing more.
        logger.warn({ runs: runIds }, 'lost the lease of runs: cancelling them here, their late events are refused');
        for (const runId of runIds) services.factory.cancelRun(runId, 'this worker lost the run’s lease');
      };
      if (serves) {
        const reader = connectRedis({ url: opts.redisUrl, name: 'toolrun-tailer', logger });
        tailer = createStreamTailer({
          reader,
          control: command,
          keys,
          logger,
          onEvents: (events) => services.hub.publish(events),
          onGap: () => services.resync(),
        });
        watch = tailer.watch;
      }
      if (executes) {
        stopServingApprovals = await serveApprovalDecisions({ subscriber, command, keys, services, logger });
        stopListening = await listenForCancels({
          subscriber,
          keys,
          logger,
          onCancel({ runId, reason }) {
            if (services.factory.cancelRun(runId, reason)) return;
            const at = Date.now();
            for (const [id, entry] of early) if (at - entry.at > EARLY_CANCEL_MS) early.delete(id);
            early.set(runId, { reason, at });
          },
        });
        worker = startRunWorker({
          services,
          connection: command,
          keys,
          registry,
          slots,
          ...(opts.workerConcurrency === undefined ? {} : { concurrency: opts.workerConcurrency }),
          leaseMs: runLeaseMs,
          cancelledEarly: (runId) => early.get(runId)?.reason,
        });
        const sweep = () =>
          sweepQueuedRuns({
            services,
            queue,
            redis: command,
            keys,
            sweeperId: processId,
            takenStaleMs: runLeaseMs,
          }).catch((error: unknown) => logger.warn({ err: error }, 'sweeping queued runs failed'));
        sweepTimer = setInterval(sweep, opts.sweepIntervalMs ?? 2_000);
        sweepTimer.unref();
        stopReaper = startReaper({
          services,
          intervalMs: Math.max(200, Math.floor(runLeaseMs / 3)),
          publish: (events) => publisher.publish(events),
        });
      }
    },
    async stopTakingRuns() {
      clearInterval(sweepTimer);
      stopReaper?.();
      // Resolves once the runs it took have finished (their processors returned): not awaited here.
      void worker?.close().catch(() => {});
    },
    async close() {
      clearInterval(sweepTimer);
      stopReaper?.();
      // After the drain, a job still active is a run parked on approval that the drain let go of (it
      // stays running in PostgreSQL; a live worker adopts and resumes it): its processor never returns.
      const closing = worker?.close().catch(() => {});
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([closing, new Promise((resolve) => (timer = setTimeout(resolve, PARKED_CLOSE_MS)))]);
      clearTimeout(timer);
      stopListening?.();
      stopServingApprovals?.();
      relay?.close();
      await tailer?.close();
      await registry.close();
      slots.close();
      await rateLimit.close();
      await queue.close().catch(() => {});
      subscriber.disconnect();
      publishing.disconnect();
      rating.disconnect();
      command.disconnect();
    },
  };
}
