import type { RunEvent } from '@toolrun/dispatcher';
import type { Redis } from 'ioredis';
import type { ClusterLogger } from '../ClusterLogger.ts';
import type { ClusterKeys } from '../redis/keys.ts';

/** Options of {@link createStreamTailer}. */
export interface StreamTailerOptions {
  /** A dedicated connection: a blocking `XREAD` owns it. */
  readonly reader: Redis;
  /** Another connection, for `CLIENT UNBLOCK` when the set of streams changes. */
  readonly control: Redis;
  readonly keys: ClusterKeys;
  readonly logger: ClusterLogger;
  /** Every batch read, in each stream's order. */
  onEvents(events: RunEvent[]): void;
  /**
   * Redis may have lost events (the reader's connection dropped or came back, or Redis is down): the
   * caller re-reads from the database. Called once per drop and per return, and every `pollMs` while down.
   */
  onGap(): void;
  /** How long one `XREAD` blocks; default 5 s. */
  readonly blockMs?: number;
  /** Poll interval while Redis is down; default 1 s. */
  readonly pollMs?: number;
  /**
   * How far before now a newly watched stream is read from, in milliseconds (default 10 s): events
   * committed while the subscription opened are not missed; the subscriptions drop the duplicates.
   */
  readonly lookBackMs?: number;
}

/** One process's reader of the event streams of the users it serves. */
export interface StreamTailer {
  /** Reads `userId`'s stream (null: every user's) until the returned function is called. Counted. */
  watch(userId: string | null): () => void;
  /** Streams read right now. */
  watched(): string[];
  close(): Promise<void>;
}

/**
 * The one Redis reader of an API process: a loop of `XREAD BLOCK` over the streams of the users with
 * open subscriptions here (or the every-user stream while an admin watches it), re-issued when that
 * set changes (`CLIENT UNBLOCK` ends the blocked read at once). Each entry goes to `onEvents` (the
 * hub). When its connection drops or comes back it calls `onGap`, and polls it while Redis is down,
 * so subscriptions re-read PostgreSQL: losing Redis costs latency, never an event.
 */
export function createStreamTailer(opts: StreamTailerOptions): StreamTailer {
  const { reader, control, keys, logger } = opts;
  const blockMs = opts.blockMs ?? 5_000;
  const lookBackMs = opts.lookBackMs ?? 10_000;
  const watchers = new Map<string, number>();
  const lastIds = new Map<string, string>();
  let closed = false;
  let changed: (() => void) | undefined;
  let readerId: number | undefined;
  let down = false;
  let poll: ReturnType<typeof setInterval> | undefined;

  const current = (): string[] => {
    if ((watchers.get(keys.allEvents) ?? 0) > 0) return [keys.allEvents];
    return [...watchers.keys()];
  };
  const startId = (): string => `${Math.max(0, Date.now() - lookBackMs)}-0`;
  const interrupt = (): void => {
    changed?.();
    if (readerId !== undefined) control.client('UNBLOCK', readerId).catch(() => {});
  };

  const gone = (): void => {
    if (down || closed) return;
    down = true;
    opts.onGap();
    poll = setInterval(() => opts.onGap(), opts.pollMs ?? 1_000);
    poll.unref();
  };
  const back = (): void => {
    readerId = undefined;
    if (!down) return;
    down = false;
    clearInterval(poll);
    // A restarted Redis lost its streams: read each anew from a little before now.
    for (const key of lastIds.keys()) lastIds.set(key, startId());
    opts.onGap();
    // The processes that publish reconnect on their own schedule: what they could not publish in
    // between is read from the database a few more times, until all of them must be back.
    for (const afterMs of [1_000, 3_000, 10_000]) setTimeout(() => !closed && opts.onGap(), afterMs).unref();
  };
  reader.on('close', gone);
  reader.on('ready', back);

  const loop = async (): Promise<void> => {
    while (!closed) {
      const streams = current();
      if (streams.length === 0) {
        await new Promise<void>((resolve) => {
          changed = resolve;
        });
        changed = undefined;
        continue;
      }
      const ids = streams.map((key) => {
        let id = lastIds.get(key);
        if (id === undefined) {
          id = startId();
          lastIds.set(key, id);
        }
        return id;
      });
      try {
        readerId ??= Number(await reader.client('ID'));
        const reply = (await reader.xread('COUNT', 1_000, 'BLOCK', blockMs, 'STREAMS', ...streams, ...ids)) as
          | [string, [string, string[]][]][]
          | null;
        for (const [key, entries] of reply ?? []) {
          const last = entries.at(-1);
          if (last === undefined) continue;
          if (lastIds.has(key)) lastIds.set(key, last[0]);
          const events: RunEvent[] = [];
          for (const [, fields] of entries) {
            const value = fields[1];
            if (fields[0] === 'e' && value !== undefined) events.push(...(JSON.parse(value) as RunEvent[]));
          }
          if (events.length > 0) opts.onEvents(events);
        }
      } catch (error) {
        if (closed) return;
        logger.warn({ err: error }, 'reading the event streams failed; retrying');
        gone();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const running = loop();

  return {
    watch(userId) {
      const key = userId === null ? keys.allEvents : keys.userEvents(userId);
      const before = current().join('\n');
      watchers.set(key, (watchers.get(key) ?? 0) + 1);
      if (current().join('\n') !== before) interrupt();
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const left = (watchers.get(key) ?? 1) - 1;
        if (left > 0) {
          watchers.set(key, left);
          return;
        }
        watchers.delete(key);
        lastIds.delete(key);
        // Reading a stream nobody here wants costs a little until the next re-issue; not worth an interrupt.
      };
    },
    watched: current,
    async close() {
      closed = true;
      clearInterval(poll);
      interrupt();
      reader.disconnect();
      await running.catch(() => {});
    },
  };
}
