import { randomUUID } from 'node:crypto';
import type { CrossUserDelivery } from './deliveryLedger.ts';
import { DispatchError, isDispatchError } from './errors.ts';
import type { EventHub } from './eventHub.ts';
import type { AgentCompletedEvent, RunStatus } from './events.ts';
import type { DispatcherFactory } from './factory.ts';

/** The outcome of {@link runIsolationProbe}, as plain JSON (stored and shown by the console). */
export interface IsolationReport {
  passed: boolean;
  users: number;
  runsPerUser: number;
  /** Runs that started and ended. */
  runs: number;
  /** Events the probe's runs emitted. */
  events: number;
  /** Events the probe's subscribers received. */
  deliveries: number;
  crossUserDeliveries: CrossUserDelivery[];
  /** Events of a probe run that never reached their owner's subscription (at most 1,000 listed). */
  missingDeliveries: { eventId: string; userId: string }[];
  missingDeliveryCount: number;
  liveScopesBefore: number;
  liveScopesAfter: number;
  /** Scopes of probe users still live after every probe run ended. */
  leakedScopes: number;
  /** Factory-wide, during the probe: contexts bound to a second scope (refused). */
  sharedContexts: number;
  /** Factory-wide, during the probe: events refused by a run's state machine. */
  contractViolations: number;
  runsByStatus: Record<RunStatus, number>;
  /** Runs the probe could not start, with the reason. */
  errors: string[];
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** Options of {@link runIsolationProbe}. */
export interface IsolationProbeOptions {
  readonly factory: DispatcherFactory;
  /** The hub the factory's sink publishes committed events to. */
  readonly hub: EventHub;
  readonly agent: string;
  readonly input: unknown;
  /** 1 to 10,000 synthetic users, running at the same time. */
  readonly users: number;
  /** 1 to 1,000 runs per user, one after another. */
  readonly runsPerUser: number;
  /** Synthetic user ids are `${userPrefix}-${nonce}-u${n}`; default `probe`. */
  readonly userPrefix?: string;
  /** How long to wait for the last deliveries after the last run ended; default 10 s. */
  readonly deliveryTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { finishedRuns: number; totalRuns: number }) => void;
  /**
   * Starts one run of `agent` for `userId` somewhere else (a cluster's workers) instead of through
   * `factory`: its `done` resolves with the run's `agent_completed` as stored. Undefined (or a throw)
   * is a run that could not start. The factory's scope and contract counters then see only this process.
   */
  readonly launch?: (userId: string) => Promise<ProbeRun | undefined>;
}

/** A run the probe launched through {@link IsolationProbeOptions.launch}. */
export interface ProbeRun {
  readonly runId: string;
  readonly done: Promise<AgentCompletedEvent>;
  cancel(reason: string): void;
}

const MAX_LISTED = 1_000;
const MAX_START_ATTEMPTS = 50;

/**
 * The active isolation probe: N synthetic users subscribe to their own events and run the agent
 * concurrently through the real factory, sink and hub; the report says whether any event reached
 * a user who does not own it, whether any event failed to reach its owner, and whether any scope
 * leaked. Rejects with `CANCELLED` when `signal` aborts (its runs are cancelled first).
 *
 * @example
 * const report = await runIsolationProbe({ factory, hub, agent: 'parallel', input: {}, users: 200, runsPerUser: 2 });
 * if (!report.passed) alert(report.crossUserDeliveries);
 */
export async function runIsolationProbe(opts: IsolationProbeOptions): Promise<IsolationReport> {
  const { factory, hub, users, runsPerUser, signal } = opts;
  for (const [field, value, max] of [
    ['users', users, 10_000],
    ['runsPerUser', runsPerUser, 1_000],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new DispatchError('INVALID_INPUT', `${field} must be an integer from 1 to ${max}`);
    }
  }
  if (signal?.aborted) throw new DispatchError('CANCELLED', 'the probe was cancelled before it started');
  const startedAt = new Date();
  const t0 = performance.now();
  const before = factory.stats();
  const nonce = randomUUID().slice(0, 8);
  const userIds = Array.from({ length: users }, (_, i) => `${opts.userPrefix ?? 'probe'}-${nonce}-u${i}`);

  const received = new Map<string, Set<string>>(userIds.map((u) => [u, new Set<string>()]));
  const crossUser: CrossUserDelivery[] = [];
  const errors: string[] = [];
  let deliveries = 0;
  let wake: (() => void) | undefined;
  const subscriptions = userIds.map((userId) => hub.subscribe({ principal: { userId, roles: ['user'] } }));
  const consumers = subscriptions.map(async (subscription, i) => {
    const userId = userIds[i] ?? '';
    const own = received.get(userId) ?? new Set<string>();
    try {
      for await (const batch of subscription) {
        for (const event of batch) {
          deliveries += 1;
          if (event.userId !== userId) {
            crossUser.push({ eventId: event.id, ownerUserId: event.userId, recipientUserId: userId });
          } else own.add(event.id);
        }
        wake?.();
      }
    } catch (error) {
      errors.push(`subscription of ${userId} ended: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  const finished: AgentCompletedEvent[] = [];
  const active = new Set<ProbeRun>();
  const onAbort = (): void => {
    for (const handle of active) handle.cancel('the isolation probe was cancelled');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const totalRuns = users * runsPerUser;
  try {
    await Promise.all(
      userIds.map(async (userId) => {
        for (let r = 0; r < runsPerUser && !signal?.aborted; r++) {
          const handle = await start(opts, userId, errors);
          if (!handle) continue;
          active.add(handle);
          const last = await handle.done;
          active.delete(handle);
          finished.push(last);
          opts.onProgress?.({ finishedRuns: finished.length, totalRuns });
        }
      }),
    );
    const expected = finished.reduce((sum, last) => sum + last.seq, 0);
    const ownReceived = (): number => {
      let n = 0;
      for (const set of received.values()) n += set.size;
      return n;
    };
    if (ownReceived() < expected && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.deliveryTimeoutMs ?? 10_000);
        wake = () => {
          if (ownReceived() >= expected) {
            clearTimeout(timer);
            resolve();
          }
        };
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const subscription of subscriptions) subscription.close();
    await Promise.all(consumers);
  }
  if (signal?.aborted) throw new DispatchError('CANCELLED', 'the isolation probe was cancelled');

  const missing: { eventId: string; userId: string }[] = [];
  let missingCount = 0;
  for (const last of finished) {
    const own = received.get(last.userId);
    for (let seq = 1; seq <= last.seq; seq++) {
      const eventId = `${last.runId}:${seq}`;
      if (own?.has(eventId)) continue;
      missingCount += 1;
      if (missing.length < MAX_LISTED) missing.push({ eventId, userId: last.userId });
    }
  }
  const after = factory.stats();
  const leakedScopes = userIds.reduce((sum, userId) => sum + factory.liveScopes(userId), 0);
  const runsByStatus: Record<RunStatus, number> = { completed: 0, failed: 0, cancelled: 0, interrupted: 0 };
  for (const last of finished) runsByStatus[last.status] += 1;
  const sharedContexts = after.sharedContexts - before.sharedContexts;
  const contractViolations = after.contractViolations - before.contractViolations;
  const finishedAt = new Date();
  return {
    passed:
      crossUser.length === 0 &&
      missingCount === 0 &&
      leakedScopes === 0 &&
      sharedContexts === 0 &&
      contractViolations === 0 &&
      errors.length === 0,
    users,
    runsPerUser,
    runs: finished.length,
    events: finished.reduce((sum, last) => sum + last.seq, 0),
    deliveries,
    crossUserDeliveries: crossUser.slice(0, MAX_LISTED),
    missingDeliveries: missing,
    missingDeliveryCount: missingCount,
    liveScopesBefore: before.liveScopes,
    liveScopesAfter: after.liveScopes,
    leakedScopes,
    sharedContexts,
    contractViolations,
    runsByStatus,
    errors: errors.slice(0, MAX_LISTED),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
  };
}

// Starts one run, waiting out rate and concurrency limits (they are not isolation failures).
async function start(opts: IsolationProbeOptions, userId: string, errors: string[]): Promise<ProbeRun | undefined> {
  if (opts.launch !== undefined) {
    try {
      return await opts.launch(userId);
    } catch (error) {
      errors.push(`${userId}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }
  for (let attempt = 1; attempt <= MAX_START_ATTEMPTS && !opts.signal?.aborted; attempt++) {
    const context = opts.factory.createContext({ userId, threadId: `${userId}-thread` });
    try {
      return opts.factory.startRun({ context, agent: opts.agent, input: opts.input });
    } catch (error) {
      if (isDispatchError(error, 'RATE_LIMITED') || isDispatchError(error, 'CONCURRENT_RUN_LIMIT')) {
        const details = error.details as { retryAfterMs?: number } | undefined;
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, details?.retryAfterMs ?? 10)));
        continue;
      }
      errors.push(`${userId}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }
  if (!opts.signal?.aborted) errors.push(`${userId}: could not start a run in ${MAX_START_ATTEMPTS} attempts`);
  return undefined;
}
