import { describeError } from './describeError.ts';
import type { FeedListener, FeedState } from './runsFeed.ts';
import { emptyTimeline, type Timeline, timelineReducer } from './timelineReducer.ts';
import type { RunEvent } from './types.ts';

/**
 * How a run card's events stand: the feed's state while the run goes on (`connecting`, `connected`,
 * `reconnecting` after a drop, `resumed` once back), `ended` after `agent_completed`, `failed` when the
 * server refused the run (not the caller's, …) or the feed itself.
 */
export type LinkState = Exclude<FeedState, 'failed'> | 'ended' | 'failed';

/** One followed run. */
export interface LiveRun {
  runId: string;
  /** `…` until the run's `agent_started` or its stored record says. */
  agent: string;
  threadId: string;
  timeline: Timeline;
  link: LinkState;
  /** How many times the feed dropped (and resumed) while this run was open. */
  drops: number;
  error: string | undefined;
}

/** What the store needs of the session's feed (see `RunsFeed`). */
export interface FeedPort {
  listen(listener: FeedListener): () => void;
  state(): FeedState;
}

/** A run's stored record and events (`runs.get`): the history the feed does not repeat. */
export interface StoredRun {
  agent: string;
  threadId: string;
  events: readonly RunEvent[];
}

/** Options of {@link LiveRunsStore}. */
export interface LiveRunsStoreOptions {
  feed: FeedPort;
  /** Reads a run's history (`runs.get`); a refusal (NOT_FOUND, …) marks its card failed. */
  loadRun(runId: string): Promise<StoredRun>;
  /** Whose runs these are: the key under which the followed runs survive a reload of the tab. */
  userId: string;
  /** Wait before reading a run's history again after a failed attempt (attempt counts from 0). */
  retryDelayMs?: (attempt: number) => number;
  storage?: Pick<Storage, 'getItem' | 'setItem'> | undefined;
}

interface Entry {
  run: LiveRun;
  /** Its history has been read (or it was seen from its first event on the feed). */
  loaded: boolean;
  loading: boolean;
  /** The server refused its history (NOT_FOUND, …): it stays `failed`. */
  refused: boolean;
  /** Read it again once the read in flight ends (a gap showed meanwhile). */
  again: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  attempt: number;
}

const SAVED = 20;
/** Runs kept in memory; past it the oldest finished ones are forgotten. */
export const MAX_KEPT_RUNS = 100;
const MAX_DISMISSED = 1_000;
const UNKNOWN_AGENT = '…';

/**
 * Every run of the user, live, from the session's one `runs.feed`: a run appears with its first event
 * (from this tab, another tab, the CLI), each into its own {@link Timeline}. History the feed cannot
 * have (a run followed after it started, a reload, the first connection) comes from `runs.get`; the
 * timeline drops by seq whatever arrives twice and holds what arrives after a gap, which is also read
 * from the history. React reads it with `useSyncExternalStore`.
 */
export class LiveRunsStore {
  readonly #opts: LiveRunsStoreOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #dismissed = new Set<string>();
  readonly #listeners = new Set<() => void>();
  readonly #unlisten: () => void;
  #snapshot: readonly LiveRun[] = [];
  #saved = '';
  #disposed = false;

  constructor(opts: LiveRunsStoreOptions) {
    this.#opts = opts;
    const saved = this.#loadSaved();
    this.#saved = JSON.stringify(saved);
    for (const run of saved) this.follow(run);
    this.#unlisten = opts.feed.listen({
      onEvents: (events) => this.#apply(events),
      onState: (state, info) => this.#feedState(state, info),
    });
  }

  /** Registers a listener; returns the function that removes it. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The followed runs, newest first; a new array after every change. */
  getSnapshot = (): readonly LiveRun[] => this.#snapshot;

  /** Follows a run (its history, then the feed); no-op when already followed. */
  follow(run: { runId: string; agent: string; threadId: string }): void {
    if (this.#disposed) return;
    this.#dismissed.delete(run.runId);
    const known = this.#entries.get(run.runId);
    if (known !== undefined) {
      if (known.run.agent === UNKNOWN_AGENT) this.#update(known, { agent: run.agent });
      return;
    }
    const entry = this.#add(run.runId, run.agent, run.threadId);
    if (this.#feedUp()) this.#load(entry);
    this.#changed();
  }

  /** Stops showing a run, even as its events go on arriving (the run itself goes on; see `runs.cancel`). */
  dismiss(runId: string): void {
    const entry = this.#entries.get(runId);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.#entries.delete(runId);
    this.#dismissed.add(runId);
    if (this.#dismissed.size > MAX_DISMISSED) this.#dismissed.delete(this.#dismissed.values().next().value ?? '');
    this.#changed();
  }

  /** Stops listening; the store is unusable afterwards. */
  dispose(): void {
    this.#disposed = true;
    this.#unlisten();
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#listeners.clear();
  }

  #add(runId: string, agent: string, threadId: string): Entry {
    const state = this.#opts.feed.state();
    const entry: Entry = {
      run: {
        runId,
        agent,
        threadId,
        timeline: emptyTimeline(runId),
        link: state === 'failed' ? 'failed' : state,
        drops: 0,
        error: undefined,
      },
      loaded: false,
      loading: false,
      refused: false,
      again: false,
      timer: undefined,
      attempt: 0,
    };
    this.#entries.set(runId, entry);
    this.#forgetOld();
    return entry;
  }

  #feedUp(): boolean {
    const state = this.#opts.feed.state();
    return state === 'connected' || state === 'resumed';
  }

  #apply(events: readonly RunEvent[]): void {
    if (this.#disposed) return;
    const byRun = new Map<string, RunEvent[]>();
    for (const event of events) {
      const list = byRun.get(event.runId);
      if (list === undefined) byRun.set(event.runId, [event]);
      else list.push(event);
    }
    for (const [runId, list] of byRun) {
      if (this.#dismissed.has(runId)) continue;
      let entry = this.#entries.get(runId);
      const first = list[0];
      if (entry === undefined) {
        if (first === undefined) continue;
        entry = this.#add(runId, first.type === 'agent_started' ? first.agent : UNKNOWN_AGENT, first.threadId);
        // Seen from its first event: the feed brings the rest, nothing to read.
        entry.loaded = first.seq === 1;
      }
      const started = list.find((e) => e.type === 'agent_started');
      const timeline = timelineReducer(entry.run.timeline, { type: 'events', events: list });
      this.#update(entry, {
        timeline,
        ...(started?.type === 'agent_started' && entry.run.agent === UNKNOWN_AGENT ? { agent: started.agent } : {}),
        ...(timeline.completed !== undefined && entry.run.link !== 'failed' ? { link: 'ended' as const } : {}),
      });
      // Events after a gap: what is missing is in the history.
      if (!entry.loaded || timeline.pending.size > 0) this.#load(entry);
    }
  }

  #feedState(state: FeedState, info: { gapless: boolean; error: string | undefined }): void {
    for (const entry of this.#entries.values()) {
      const { run } = entry;
      if (run.link === 'ended' || entry.refused) continue;
      const patch: Partial<LiveRun> =
        state === 'failed' ? { link: 'failed', error: info.error } : { link: state, error: info.error };
      if (state === 'reconnecting' && run.link !== 'reconnecting') patch.drops = run.drops + 1;
      entry.run = { ...run, ...patch };
    }
    this.#changed();
    if (state !== 'connected' && state !== 'resumed') return;
    // Connected: read the history of runs not read yet, and of every open run when the connection
    // started without a tracked id (events committed before it are not coming on the feed).
    for (const entry of this.#entries.values()) {
      if (entry.run.link === 'ended' || entry.refused) continue;
      if (!entry.loaded || !info.gapless) this.#load(entry);
    }
  }

  #load(entry: Entry): void {
    if (entry.loading) {
      entry.again = true;
      return;
    }
    if (entry.timer !== undefined) return;
    entry.loading = true;
    const runId = entry.run.runId;
    const current = () => this.#entries.get(runId) === entry && !this.#disposed;
    this.#opts.loadRun(runId).then(
      (stored) => {
        entry.loading = false;
        if (!current()) return;
        entry.loaded = true;
        entry.attempt = 0;
        const timeline = timelineReducer(entry.run.timeline, { type: 'events', events: stored.events });
        this.#update(entry, {
          timeline,
          agent: entry.run.agent === UNKNOWN_AGENT ? stored.agent : entry.run.agent,
          threadId: stored.threadId,
          ...(timeline.completed !== undefined ? { link: 'ended' as const } : {}),
        });
        if (entry.again) {
          entry.again = false;
          if (timeline.pending.size > 0) this.#load(entry);
        }
      },
      (error: unknown) => {
        entry.loading = false;
        entry.again = false;
        if (!current()) return;
        const described = describeError(error);
        if (!described.retryable) {
          entry.refused = true;
          this.#update(entry, { link: 'failed', error: described.message });
          return;
        }
        const delay = this.#opts.retryDelayMs?.(entry.attempt) ?? Math.min(3_000, 200 * 2 ** entry.attempt);
        entry.attempt += 1;
        entry.timer = setTimeout(() => {
          entry.timer = undefined;
          if (current()) this.#load(entry);
        }, delay);
      },
    );
  }

  /** Past {@link MAX_KEPT_RUNS}, forgets the oldest finished runs (open ones stay). */
  #forgetOld(): void {
    if (this.#entries.size <= MAX_KEPT_RUNS) return;
    for (const [runId, entry] of this.#entries) {
      if (this.#entries.size <= MAX_KEPT_RUNS) break;
      if (entry.run.link !== 'ended' && entry.run.link !== 'failed') continue;
      clearTimeout(entry.timer);
      this.#entries.delete(runId);
    }
  }

  #update(entry: Entry, patch: Partial<LiveRun>): void {
    entry.run = { ...entry.run, ...patch };
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

  /** Saves the list of runs when it changed (not on every event, nor on a feed drop at unload). */
  #save(): void {
    const runs = [...this.#entries.values()]
      .slice(-SAVED)
      .map(({ run }) => ({ runId: run.runId, agent: run.agent, threadId: run.threadId }));
    const text = JSON.stringify(runs);
    if (text === this.#saved) return;
    this.#saved = text;
    try {
      this.#opts.storage?.setItem(this.#storageKey(), text);
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
