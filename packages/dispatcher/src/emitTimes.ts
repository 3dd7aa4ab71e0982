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
  /**
   * Keeps `text`, which must be exactly `JSON.stringify(event)`, with a recorded live event, so
   * that the transports send the text the database row was written with instead of serialising the
   * event again. A no-op for an event without an emit time.
   */
  keepJson(event: RunEvent, text: string): void;
  /** The text kept by {@link EmitTimes.keepJson}, if any. */
  json(event: RunEvent): string | undefined;
}

/** What a live event carries, unseen: its emit time and, once its row is written, its JSON. */
interface LiveMark {
  readonly at: number;
  json: string | undefined;
}

// A non-enumerable symbol property of the event itself: JSON, spreads, structured clones and deep
// equality all skip it, so the event is the same event to every reader; the hub, the subscriptions
// and the transports pass on the very objects the run emitted, while an event read back from the
// database is a new object (no mark). One small object and one property store per event: a WeakMap
// entry cost several times more (an identity hash per frozen event, ephemeron work in every GC).
// The mark is set before the event is frozen and stays writable itself (freezing is shallow).
const MARK = Symbol('toolrun.liveMark');

const markOf = (event: RunEvent): LiveMark | undefined => (event as { [MARK]?: LiveMark })[MARK];

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
    const mark: LiveMark = { at: monotonicMs, json: undefined };
    Object.defineProperty(event, MARK, { value: mark });
  },
  of(event) {
    return markOf(event)?.at;
  },
  keepJson(event, text) {
    const mark = markOf(event);
    if (mark !== undefined) mark.json = text;
  },
  json(event) {
    return markOf(event)?.json;
  },
};
const state = emitTimes as { recording: boolean };
