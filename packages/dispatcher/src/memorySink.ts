import type { RunEvent } from './events.ts';
import type { EventSink } from './ports.ts';

/** An {@link EventSink} that keeps events in memory: for tests, demos and benchmarks. */
export interface MemorySink extends EventSink {
  /** Every event written, in write order; or one run's events. */
  events(runId?: string): RunEvent[];
  /** Each `write` call's batch, in order. */
  readonly writes: readonly (readonly RunEvent[])[];
  clear(): void;
}

/**
 * Creates an in-memory sink. `delayMs` makes every write asynchronous and slow (a function gives
 * each write its own delay); `onWrite` sees each batch once written, e.g. to publish it to a hub;
 * `fail` makes a write reject.
 *
 * @example
 * const sink = createMemorySink({ onWrite: (events) => hub.publish(events) });
 */
export function createMemorySink(
  opts: {
    delayMs?: number | ((batch: readonly RunEvent[]) => number);
    onWrite?: (events: readonly RunEvent[]) => void;
    fail?: (batch: readonly RunEvent[]) => boolean;
  } = {},
): MemorySink {
  const all: RunEvent[] = [];
  const writes: (readonly RunEvent[])[] = [];
  const store = (batch: readonly RunEvent[]): void => {
    if (opts.fail?.(batch)) throw new Error('the memory sink was told to fail');
    all.push(...batch);
    writes.push([...batch]);
    opts.onWrite?.(batch);
  };
  return {
    write(batch) {
      const delay = typeof opts.delayMs === 'function' ? opts.delayMs(batch) : opts.delayMs;
      if (delay === undefined) return store(batch);
      return new Promise<void>((resolve, reject) => {
        setTimeout(() => {
          try {
            store(batch);
            resolve();
          } catch (error) {
            reject(error);
          }
        }, delay);
      });
    },
    events: (runId) => (runId === undefined ? [...all] : all.filter((e) => e.runId === runId)),
    writes,
    clear() {
      all.length = 0;
      writes.length = 0;
    },
  };
}
