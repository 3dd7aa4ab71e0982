import type { RunEvent } from '@toolrun/api';
import { TRPCClientError } from '@trpc/client';
import type { Random } from './random.ts';

/** Everything one logical stream received, across all its (re)subscriptions, in arrival order. */
export interface StreamLog {
  readonly events: RunEvent[];
  messages: number;
  /** Subscriptions opened (the first one and every explicit resume). */
  subscriptions: number;
  /** Drops decided by the client (then resumed from the last tracked id). */
  drops: number;
  /** Subscription errors seen by the client (then resumed from the last tracked id), by message. */
  readonly errors: string[];
  /** Messages whose tracked id was not the id of their last event. */
  badTrackedIds: number;
  /** Messages with no event in them. */
  emptyMessages: number;
  /** Times the server completed the stream before its `agent_completed`. */
  earlyCompletions: number;
  /** For each early completion, the seq of the last event received before it (0: none). */
  readonly earlyCompletionSeqs: number[];
  /** The server said the run does not exist (NOT_FOUND) after it was started. */
  vanished: boolean;
  /** Last tracked id received. */
  lastEventId: string | undefined;
}

type Callbacks = {
  onStarted: () => void;
  onData: (message: { id: string; data: RunEvent[] }) => void;
  onError: (error: unknown) => void;
  onComplete: () => void;
  onStopped: () => void;
};

/** Opens one subscription resuming after `lastEventId` (undefined: from the start, or live for a feed). */
export type Subscribe = (lastEventId: string | undefined, callbacks: Callbacks) => { unsubscribe: () => void };

/** Options of {@link followStream}. */
export interface FollowOptions {
  subscribe: Subscribe;
  /** Whether the stream is finished once these are the events received (a run: its agent_completed). */
  isFinished: (events: readonly RunEvent[]) => boolean;
  rng: Random;
  /** Probability of a client-side drop at each message and at each subscription start. */
  disconnectRate: number;
  /** Called on a drop with probability ½: replaces the connection underneath (a new WebSocket). */
  reconnect?: () => void;
  /** Hang guard: the stream is abandoned (and reported unfinished) after this epoch time. */
  deadline: number;
  /** Stops following (feeds, which never finish). */
  signal?: AbortSignal;
  /** Resolves when the first subscription is running on the server. */
  onStarted?: () => void;
  /** The log to fill (read it while the stream runs); a new one when absent. */
  log?: StreamLog;
}

/** A log with nothing received yet. */
export function emptyStreamLog(): StreamLog {
  return {
    events: [],
    messages: 0,
    subscriptions: 0,
    drops: 0,
    errors: [],
    badTrackedIds: 0,
    emptyMessages: 0,
    earlyCompletions: 0,
    earlyCompletionSeqs: [],
    vanished: false,
    lastEventId: undefined,
  };
}

type Outcome = 'finished' | 'dropped' | 'error' | 'completed-early' | 'vanished' | 'stopped';

/**
 * Follows a resumable subscription the way a real client does, with faults: it records every
 * message, sometimes drops the subscription on purpose (and sometimes its connection), and always
 * resumes from the last tracked id it received, after drops, errors and early completions, until
 * the stream is finished, the signal aborts or the deadline passes. Bounded in time by `deadline`.
 */
export async function followStream(opts: FollowOptions): Promise<StreamLog> {
  const log = opts.log ?? emptyStreamLog();
  let started = false;
  while (Date.now() < opts.deadline && opts.signal?.aborted !== true) {
    const outcome = await oneSubscription(opts, log, () => {
      if (started) return;
      started = true;
      opts.onStarted?.();
    });
    if (outcome === 'finished' || outcome === 'vanished' || outcome === 'stopped') break;
    if (outcome === 'dropped') {
      log.drops += 1;
      if (opts.reconnect !== undefined && opts.rng.chance(0.5)) opts.reconnect();
      await sleep(opts.rng.int(0, 100));
    } else {
      await sleep(200 + opts.rng.int(0, 300));
    }
  }
  return log;
}

function oneSubscription(opts: FollowOptions, log: StreamLog, onStarted: () => void): Promise<Outcome> {
  log.subscriptions += 1;
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    let sub: { unsubscribe: () => void } | undefined;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
      // Unsubscribing from inside a callback is allowed; defer so tRPC finishes its own bookkeeping.
      queueMicrotask(() => sub?.unsubscribe());
      resolve(outcome);
    };
    const onAbort = () => settle('stopped');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => settle('stopped'), Math.max(0, opts.deadline - Date.now())));
    if (opts.rng.chance(opts.disconnectRate)) timers.push(setTimeout(() => settle('dropped'), opts.rng.int(0, 200)));
    sub = opts.subscribe(log.lastEventId, {
      onStarted,
      onData(message) {
        if (settled) return;
        log.messages += 1;
        if (message.data.length === 0) log.emptyMessages += 1;
        if (message.data.at(-1)?.id !== message.id) log.badTrackedIds += 1;
        log.events.push(...message.data);
        log.lastEventId = message.id;
        if (opts.isFinished(log.events)) settle('finished');
        else if (opts.rng.chance(opts.disconnectRate)) settle('dropped');
      },
      onError(error) {
        if (settled) return;
        const code = error instanceof TRPCClientError ? String(error.data?.code ?? error.message) : String(error);
        log.errors.push(code);
        if (code === 'NOT_FOUND') {
          log.vanished = true;
          settle('vanished');
        } else settle('error');
      },
      onComplete() {
        if (settled) return;
        if (opts.isFinished(log.events)) settle('finished');
        else {
          log.earlyCompletions += 1;
          log.earlyCompletionSeqs.push(log.events.at(-1)?.seq ?? 0);
          settle('completed-early');
        }
      },
      onStopped() {
        if (!settled) settle(opts.isFinished(log.events) ? 'finished' : 'completed-early');
      },
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
