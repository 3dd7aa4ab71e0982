import type { RunEvent } from './events.ts';

/** See {@link emitTimes}. */
export interface EmitTimes {
  /** Whether emit times are recorded (a plain field: the emit path reads it once per event). */
  readonly recording: boolean;
  /** Starts recording emit times, for the rest of the process's life. */
  record(): void;
  /** @internal Called by the run's channel as it emits `event`, with the monotonic reading of that instant. */
  note(event: RunEvent, monotonicMs: number): void;
  /** The monotonic time (`performance.now()`) `event` was emitted at, when it was recorded. */
  of(event: RunEvent): number | undefined;
}

// Keyed by the event object itself: the hub, the subscriptions and the transports pass on the very
// objects the run emitted, while an event read back from the database is a new object (no entry).
const times = new WeakMap<RunEvent, number>();

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
    times.set(event, monotonicMs);
  },
  of(event) {
    return times.get(event);
  },
};
const state = emitTimes as { recording: boolean };
