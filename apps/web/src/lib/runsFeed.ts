import { describeError } from './describeError.ts';
import type { RunEvent } from './types.ts';

/**
 * How the feed stands: `connecting` before the first connection, `connected`, `reconnecting` after a
 * drop, `resumed` once it is back (from the last tracked id), `failed` when the server refused it.
 */
export type FeedState = 'connecting' | 'connected' | 'reconnecting' | 'resumed' | 'failed';

/** One message of `runs.feed`: the tracked id of its last event and one or more events. */
export interface FeedMessage {
  id: string;
  data: readonly RunEvent[];
}

/** The observer the feed hands to the transport (the tRPC client's `subscribe`). */
export interface FeedObserver {
  onData(message: FeedMessage): void;
  onError(error: unknown): void;
  onComplete(): void;
  onConnectionStateChange(state: { state: 'idle' | 'connecting' | 'pending' }): void;
}

/** Opens `runs.feed`; the port between the feed and the tRPC client. */
export type SubscribeFeed = (input: { lastEventId?: string }, observer: FeedObserver) => { unsubscribe(): void };

/** What a listener of the feed hears. */
export interface FeedListener {
  /** Events of the user's runs, each run's in seq order (one message of the feed). */
  onEvents?(events: readonly RunEvent[]): void;
  /**
   * The feed's state changed. `gapless` is false when the connection just made started without a
   * tracked id (the first connection, or a reconnect before any message): events committed before it
   * may be missing, so a listener fills in from the history (`runs.get`).
   */
  onState?(state: FeedState, info: { gapless: boolean; error: string | undefined }): void;
}

/** Options of {@link RunsFeed}. */
export interface RunsFeedOptions {
  subscribe: SubscribeFeed;
  /** Wait before re-subscribing after a failed attempt (attempt counts from 0). */
  retryDelayMs?: (attempt: number) => number;
}

/**
 * The session's one `runs.feed` subscription: every event of every run of the signed-in user, over one
 * stream (one HTTP connection over SSE), shared by the live runs and the approvals. It resumes from the
 * last tracked id it received, whatever dropped: the transport's own reconnects (EventSource and wsLink
 * send that id), and its own re-subscription after an error or an unexpected end.
 */
export class RunsFeed {
  readonly #opts: RunsFeedOptions;
  readonly #listeners = new Set<FeedListener>();
  #sub: { unsubscribe(): void } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #cursor: string | undefined;
  #state: FeedState = 'connecting';
  #error: string | undefined;
  #drops = 0;
  #attempt = 0;
  #started = false;
  #disposed = false;

  constructor(opts: RunsFeedOptions) {
    this.#opts = opts;
  }

  /** Opens the stream (once). */
  start(): void {
    if (this.#started || this.#disposed) return;
    this.#started = true;
    this.#open();
  }

  /** Adds a listener; returns the function that removes it. */
  listen(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The current state. */
  state(): FeedState {
    return this.#state;
  }

  /** How many times the stream dropped (and resumed, or is resuming). */
  drops(): number {
    return this.#drops;
  }

  /** The last tracked id received: where the feed resumes from. */
  cursor(): string | undefined {
    return this.#cursor;
  }

  /** Closes the stream; the feed is unusable afterwards. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#listeners.clear();
  }

  #open(): void {
    let live = true;
    const isCurrent = () => live && !this.#disposed;
    const input = this.#cursor === undefined ? {} : { lastEventId: this.#cursor };
    const sub = this.#opts.subscribe(input, {
      onConnectionStateChange: ({ state }) => {
        if (!isCurrent()) return;
        if (state === 'pending') {
          this.#attempt = 0;
          this.#set(this.#drops > 0 ? 'resumed' : 'connected', this.#cursor !== undefined);
        } else if (state === 'connecting' && (this.#state === 'connected' || this.#state === 'resumed')) {
          // The transport reconnects by itself (EventSource, wsLink), with the last tracked id.
          this.#drops += 1;
          this.#set('reconnecting', true);
        }
      },
      onData: (message) => {
        if (!isCurrent()) return;
        const gapless = this.#cursor !== undefined;
        this.#cursor = message.id;
        if (this.#state === 'connecting' || this.#state === 'reconnecting') {
          this.#set(this.#state === 'connecting' ? 'connected' : 'resumed', gapless);
        }
        for (const listener of this.#listeners) listener.onEvents?.(message.data);
      },
      onError: (error) => {
        if (!isCurrent()) return;
        live = false;
        const described = describeError(error);
        if (!described.retryable) {
          this.#sub?.unsubscribe();
          this.#sub = undefined;
          this.#error = described.message;
          this.#set('failed', true);
          return;
        }
        this.#retry(described.message);
      },
      // The feed never completes on its own: an end means the server is going away. Resume.
      onComplete: () => {
        if (!isCurrent()) return;
        live = false;
        this.#retry(undefined);
      },
    });
    if (live) this.#sub = sub;
    else sub.unsubscribe();
  }

  #retry(error: string | undefined): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#error = error;
    if (this.#state !== 'reconnecting') {
      this.#drops += 1;
      this.#set('reconnecting', true);
    }
    clearTimeout(this.#timer);
    const delay = this.#opts.retryDelayMs?.(this.#attempt) ?? Math.min(3_000, 200 * 2 ** this.#attempt);
    this.#attempt += 1;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#disposed) this.#open();
    }, delay);
  }

  #set(state: FeedState, gapless: boolean): void {
    this.#state = state;
    if (state !== 'failed' && state !== 'reconnecting') this.#error = undefined;
    for (const listener of this.#listeners) listener.onState?.(state, { gapless, error: this.#error });
  }
}
