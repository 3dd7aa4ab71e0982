import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** How a stream of `count` events is emitted. */
export interface PaceOptions {
  readonly count: number;
  /** Events per second for this stream; absent: as fast as the event loop allows (`burst` per turn). */
  readonly ratePerSec?: number | undefined;
  /** Events per event-loop turn when there is no rate. */
  readonly burst: number;
  /** Delays the first event by up to one interval, so that many paced streams do not tick together. */
  readonly phase?: number;
  readonly signal?: AbortSignal | undefined;
  /** Emits event `i` (0-based). */
  emit(i: number): void;
  /** Whether to hold back for a turn (e.g. a socket's buffer is full); flood mode only. */
  blocked?(): boolean;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Emits `count` events at a fixed rate (every event whose due time has come, then a timer until
 * the next one: at most a timer tick late, never early, no drift) or, without a rate, in bursts
 * of `burst` per event-loop turn. Stops early when `signal` aborts. Resolves with the number emitted.
 * The same schedule drives the Toolrun bench agent and the raw WebSocket baseline.
 */
export async function pace(opts: PaceOptions): Promise<number> {
  let emitted = 0;
  const { count, signal } = opts;
  if (opts.ratePerSec === undefined) {
    while (emitted < count && signal?.aborted !== true) {
      if (opts.blocked?.() === true) {
        await sleep(1, signal);
        continue;
      }
      const end = Math.min(count, emitted + opts.burst);
      while (emitted < end) opts.emit(emitted++);
      if (emitted < count) await yieldToLoop();
    }
    return emitted;
  }
  const interval = 1000 / opts.ratePerSec;
  const start = performance.now() + (opts.phase ?? 0) * interval;
  while (emitted < count && signal?.aborted !== true) {
    const now = performance.now();
    while (emitted < count && start + emitted * interval <= now) opts.emit(emitted++);
    if (emitted >= count) break;
    await sleep(Math.max(1, start + emitted * interval - performance.now()), signal);
  }
  return emitted;
}
