import type { Clock } from './ports.ts';

/** The real clock: `Date.now()` for event times, `performance.now()` for durations and limits. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
});

/**
 * Turns monotonic readings into wall-clock milliseconds, as `now()` would have said at that instant:
 * `origin + reading`, where `origin` starts as the high-resolution wall time of `reading`'s zero and
 * is checked against `wall()` at most once per `resyncMs` of monotonic time. Closer than 1 ms, it
 * is kept (both clocks advance together); farther, the wall clock was set, and `origin` follows it.
 * The result is an integer, like `Date.now()`, and never more than 1 ms from it between clock steps.
 * Internal.
 */
export function createWallClockAt(
  wall: () => number,
  monotonic: () => number,
  origin: number,
  resyncMs: number,
): (reading: number) => number {
  let offset = origin;
  let checkedAt = Number.NEGATIVE_INFINITY;
  return (reading) => {
    if (reading - checkedAt >= resyncMs) {
      const mono = monotonic();
      const drift = wall() - (offset + mono);
      checkedAt = mono;
      if (drift >= 1 || drift <= -1) offset += drift;
    }
    return Math.floor(offset + reading);
  };
}

/**
 * The wall-clock time of a {@link systemClock} monotonic reading: a call's events take their `at`
 * from the reading the call takes anyway for its duration, instead of reading the clock again.
 * Internal.
 */
export const systemWallClockAt = createWallClockAt(
  () => Date.now(),
  () => performance.now(),
  performance.timeOrigin,
  1_000,
);
