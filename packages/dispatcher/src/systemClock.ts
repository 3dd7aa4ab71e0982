import type { Clock } from './ports.ts';

/** The real clock: `Date.now()` for event times, `performance.now()` for durations and limits. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
});
