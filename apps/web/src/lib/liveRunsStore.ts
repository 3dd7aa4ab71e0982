import { describeError } from './describeError.ts';
import { emptyTimeline, resumeId, type Timeline, timelineReducer } from './timelineReducer.ts';
import type { RunEvent } from './types.ts';

/**
 * How a run's stream stands: `queued` while waiting for a free connection (see `maxStreams`),
 * `connecting` before the first connection, `connected`, then `reconnecting` after a drop and
 * `resumed` once the stream is back (from the last event id); `ended` after `agent_completed`;
 * `failed` when the server refused the stream.
 */
export type LinkState = 'queued' | 'connecting' | 'connected' | 'reconnecting' | 'resumed' | 'ended' | 'failed';

/** One followed run. */
export interface LiveRun {
  runId: string;
  agent: string;
  threadId: string;
  timeline: Timeline;
  link: LinkState;
  /** How many times the stream dropped and was resumed. */
  drops: number;
  error: string | undefined;
}

/** One message of `runs.events`: the tracked id of its last event and one or more events. */
export interface EventsMessage {
  id: string;
  data: readonly RunEvent[];
}

/** The observer the store hands to the transport (the tRPC client's `subscribe`). */
export interface EventsObserver {
  onData(message: EventsMessage): void;
  onError(error: unknown): void;
  onComplete(): void;
  onConnectionStateChange(state: { state: 'idle' | 'connecting' | 'pending' }): void;
}

/** Opens `runs.events` for a run; the port between the store and the tRPC client. */
export type SubscribeRunEvents = (
  input: { runId: string; lastEventId?: string },
  observer: EventsObserver,
) => { unsubscribe(): void };

/** Options of {@link LiveRunsStore}. */
export interface LiveRunsStoreOptions {
  subscribe: SubscribeRunEvents;
  /** Whose runs these are: the key under which the followed runs survive a reload of the tab. */
  userId: string;
  /** Wait before re-subscribing after a failed attempt (attempt counts from 0). */
  retryDelayMs?: (attempt: number) => number;
  storage?: Pick<Storage, 'getItem' | 'setItem'> | undefined;
  /**
   * Most streams open at once; further runs wait as `queued` until one ends. Over SSE each stream is
   * an HTTP/1.1 connection and browsers allow six per server, so more streams would stall every
   * other request of the page. Unlimited by default (a WebSocket carries them all).
   */
  maxStreams?: number | undefined;
}

interface Entry {
  run: LiveRun;
  sub: { unsubscribe(): void } | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  attempt: number;
}

const MAX_FOLLOWED = 20;

/**
 * Follows several runs at once over `runs.events`, each into its own {@link Timeline}.
 * A run belongs to its user, not to a connection: when a stream drops, errors or ends before
 * `agent_completed`, the store re-subscribes from the last event it applied, and the timeline
 * drops by seq whatever the server sends twice. React reads it with `useSyncExternalStore`.
 */
export class LiveRunsStore {
  readonly #opts: LiveRunsStoreOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<() => void>();
  #snapshot: readonly LiveRun[] = [];
  #disposed = false;

  constructor(opts: LiveRunsStoreOptions) {
    this.#opts = opts;
    for (const saved of this.#loadSaved()) this.follow(saved);
  }

  /** Registers a listener; returns the function that removes it. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The followed runs, newest first; a new array after every change. */
  getSnapshot = (): readonly LiveRun[] => this.#snapshot;

  /** Starts following a run (no-op when already followed). */
  follow(run: { runId: string; agent: string; threadId: string }): void {
    if (this.#disposed || this.#entries.has(run.runId)) return;
    const entry: Entry = {
      run: { ...run, timeline: emptyTimeline(run.runId), link: 'connecting', drops: 0, error: undefined },
      sub: undefined,
      timer: undefined,
      attempt: 0,
    };
    this.#entries.set(run.runId, entry);
    if (this.#hasFreeSlot()) this.#open(entry);
    else entry.run = { ...entry.run, link: 'queued' };
    this.#changed();
  }

  /** Stops following a run and forgets it (the run itself goes on; see `runs.cancel`). */
  dismiss(runId: string): void {
    const entry = this.#entries.get(runId);
    if (entry === undefined) return;
    this.#close(entry);
    this.#entries.delete(runId);
    this.#pump();
    this.#changed();
  }

  /** Closes every stream; the store is unusable afterwards. */
  dispose(): void {
    this.#disposed = true;
    for (const entry of this.#entries.values()) this.#close(entry);
    this.#listeners.clear();
  }

  #open(entry: Entry): void {
    const runId = entry.run.runId;
    const lastEventId = resumeId(entry.run.timeline);
    let live = true;
    const isCurrent = () => live && this.#entries.get(runId) === entry && !this.#disposed;
    const sub = this.#opts.subscribe(lastEventId === undefined ? { runId } : { runId, lastEventId }, {
      onConnectionStateChange: ({ state }) => {
        if (!isCurrent()) return;
        if (state === 'pending') this.#update(entry, { link: entry.run.drops > 0 ? 'resumed' : 'connected' });
        else if (state === 'connecting' && (entry.run.link === 'connected' || entry.run.link === 'resumed')) {
          // The transport is reconnecting by itself (EventSource, wsLink) with the last tracked id.
          this.#update(entry, { link: 'reconnecting', drops: entry.run.drops + 1 });
        }
      },
      onData: (message) => {
        if (!isCurrent()) return;
        entry.attempt = 0;
        const timeline = timelineReducer(entry.run.timeline, { type: 'events', events: message.data });
        const link =
          entry.run.link === 'connecting'
            ? 'connected'
            : entry.run.link === 'reconnecting'
              ? 'resumed'
              : entry.run.link;
        this.#update(entry, { timeline, link });
        if (timeline.pending.size > 0) {
          // A gap can only come from a broken stream: start again from the last contiguous event.
          live = false;
          this.#retry(entry, 0);
        }
      },
      onError: (error) => {
        if (!isCurrent()) return;
        live = false;
        const described = describeError(error);
        if (!described.retryable) {
          entry.sub = undefined;
          this.#update(entry, { link: 'failed', error: described.message });
          this.#pump();
          return;
        }
        this.#retry(entry, this.#delay(entry.attempt++), described.message);
      },
      onComplete: () => {
        if (!isCurrent()) return;
        live = false;
        entry.sub = undefined;
        if (entry.run.timeline.completed !== undefined) {
          this.#update(entry, { link: 'ended' });
          this.#pump();
        }
        // Ended before agent_completed (server shutting down): the run goes on, so resume.
        else this.#retry(entry, this.#delay(entry.attempt++));
      },
    });
    // The transport may have ended synchronously; keep only a live subscription.
    if (live) entry.sub = sub;
    else sub.unsubscribe();
  }

  #hasFreeSlot(): boolean {
    const max = this.#opts.maxStreams;
    if (max === undefined) return true;
    let open = 0;
    for (const e of this.#entries.values()) if (e.sub !== undefined || e.timer !== undefined) open++;
    return open < max;
  }

  /** Opens queued streams, oldest first, while there are free slots. */
  #pump(): void {
    let opened = false;
    for (const entry of this.#entries.values()) {
      if (this.#disposed || !this.#hasFreeSlot()) break;
      if (entry.run.link === 'queued') {
        entry.run = { ...entry.run, link: 'connecting' };
        this.#open(entry);
        opened = true;
      }
    }
    if (opened) this.#changed();
  }

  #retry(entry: Entry, delayMs: number, error?: string): void {
    entry.sub?.unsubscribe();
    entry.sub = undefined;
    if (entry.run.link !== 'reconnecting') {
      this.#update(entry, { link: 'reconnecting', drops: entry.run.drops + 1, error });
    }
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.#entries.get(entry.run.runId) === entry && !this.#disposed) this.#open(entry);
    }, delayMs);
  }

  #delay(attempt: number): number {
    return this.#opts.retryDelayMs?.(attempt) ?? Math.min(3_000, 200 * 2 ** attempt);
  }

  #close(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.sub?.unsubscribe();
    entry.sub = undefined;
  }

  #update(entry: Entry, patch: Partial<LiveRun>): void {
    entry.run = { ...entry.run, ...patch };
    if (patch.link !== undefined && patch.link !== 'failed' && patch.link !== 'reconnecting')
      entry.run.error = undefined;
    this.#changed();
  }

  #changed(): void {
    this.#snapshot = [...this.#entries.values()].map((e) => e.run).reverse();
    this.#save();
    for (const listener of this.#listeners) listener();
  }

  #storageKey(): string {
    return `toolrun.liveRuns.${this.#opts.userId}`;
  }

  #save(): void {
    const runs = [...this.#entries.values()]
      .slice(-MAX_FOLLOWED)
      .map(({ run }) => ({ runId: run.runId, agent: run.agent, threadId: run.threadId }));
    try {
      this.#opts.storage?.setItem(this.#storageKey(), JSON.stringify(runs));
    } catch {
      // A full or disabled storage only costs the reload convenience.
    }
  }

  #loadSaved(): { runId: string; agent: string; threadId: string }[] {
    try {
      const parsed: unknown = JSON.parse(this.#opts.storage?.getItem(this.#storageKey()) ?? '[]');
      if (!Array.isArray(parsed)) return [];
      return parsed.filter(
        (r): r is { runId: string; agent: string; threadId: string } =>
          typeof r?.runId === 'string' && typeof r?.agent === 'string' && typeof r?.threadId === 'string',
      );
    } catch {
      return [];
    }
  }
}
