import type { RunEvent } from './events.ts';

/** See {@link emitTimes}. */
export interface EmitTimes {
  /** Whether emit times are recorded (a plain field: the emit path reads it once per event). */
  readonly recording: boolean;
  /** Starts recording emit times, for the rest of the process's life. */
  record(): void;
  /**
   * @internal Called by the run's channel on the event it is about to freeze, with the monotonic
   * reading of that instant.
   */
  note(event: RunEvent, monotonicMs: number): void;
  /** The monotonic time (`performance.now()`) `event` was emitted at, when it was recorded. */
  of(event: RunEvent): number | undefined;
}

// A non-enumerable symbol property of the event itself: JSON, spreads, structured clones and deep
// equality all skip it, so the event is the same event to every reader; the hub, the subscriptions
// and the transports pass on the very objects the run emitted, while an event read back from the
// database is a new object (no time). One property store per event: a WeakMap entry cost several
// times more (an identity hash per frozen event, ephemeron work in every GC).
const EMITTED_AT = Symbol('toolrun.emittedAt');

/**
 * When each live event was emitted, on the process's monotonic clock, so a transport can measure
 * emit-to-socket time (the server's share of delivery latency) to the microsecond; the envelope's
 * `at` is wall-clock milliseconds. Off until `record()` is called (the server does, for its delivery
 * histogram): a process that never reads them pays one field check per event.
 *
 * @example
 * emitTimes.record();
 * const emittedAt = emitTimes.of(event); // undefined for an event that did not come live from a run
 */
export const emitTimes: EmitTimes = {
  recording: false,
  record() {
    state.recording = true;
  },
  note(event, monotonicMs) {
    Object.defineProperty(event, EMITTED_AT, { value: monotonicMs });
  },
  of(event) {
    return (event as { [EMITTED_AT]?: number })[EMITTED_AT];
  },
};
const state = emitTimes as { recording: boolean };
