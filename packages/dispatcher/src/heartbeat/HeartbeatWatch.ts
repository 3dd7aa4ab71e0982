import type { HeartbeatDetails } from '../defineTool.ts';
import type { JsonValue, ToolProgress } from '../events.ts';

/** Progress messages of one call are shown at most this often. */
export const PROGRESS_INTERVAL_MS = 1_000;

/** What a watch acts on: the tool call it belongs to. */
export interface HeartbeatTarget {
  readonly callId: string;
  /** The tool was silent for longer than its heartbeat timeout. */
  stalled(): void;
  /** A heartbeat carried a message, and the last one shown is over a second old. */
  showProgress(progress: ToolProgress): void;
}

/**
 * The heartbeat bookkeeping of one tool call: the stall watchdog (one timer, pushed back by each
 * heartbeat with `refresh()`, so a chatty tool costs no new timer per beat), the last heartbeat's
 * details, and the once-a-second throttle of progress messages. Created on a call's first
 * heartbeat or when its tool has a `heartbeatTimeoutMs`: other calls pay nothing. Internal.
 */
export class HeartbeatWatch {
  readonly #target: HeartbeatTarget;
  readonly #timeoutMs: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastDetails: JsonValue | undefined;
  #lastProgressAt = Number.NEGATIVE_INFINITY;
  #beats = 0;

  constructor(target: HeartbeatTarget, timeoutMs: number | undefined) {
    this.#target = target;
    this.#timeoutMs = timeoutMs;
  }

  /** Starts the watchdog (once the tool is running); a no-op without a heartbeat timeout. */
  arm(): void {
    if (this.#timeoutMs === undefined || this.#timer !== undefined) return;
    this.#timer = setTimeout(HeartbeatWatch.#fired, this.#timeoutMs, this);
  }

  /** One heartbeat at monotonic time `now`. */
  beat(details: HeartbeatDetails | undefined, now: number): void {
    this.#beats += 1;
    this.#timer?.refresh();
    if (details === undefined) return;
    this.#lastDetails = toJson(details);
    const message = details.message;
    if (typeof message !== 'string' || message.length === 0) return;
    if (now - this.#lastProgressAt < PROGRESS_INTERVAL_MS) return;
    this.#lastProgressAt = now;
    const fraction = details.fraction;
    const progress: ToolProgress = { callId: this.#target.callId, message };
    if (typeof fraction === 'number' && fraction >= 0 && fraction <= 1) progress.fraction = fraction;
    this.#target.showProgress(progress);
  }

  /** Stops the watchdog: the call has ended. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The last heartbeat's details, as JSON; `undefined` when none carried any. */
  get lastDetails(): JsonValue | undefined {
    return this.#lastDetails;
  }

  /** Heartbeats received so far. */
  get beats(): number {
    return this.#beats;
  }

  /** How long the tool may stay silent. */
  get timeoutMs(): number | undefined {
    return this.#timeoutMs;
  }

  static #fired(watch: HeartbeatWatch): void {
    watch.#timer = undefined;
    watch.#target.stalled();
  }
}

// Details are the tool's own object: keep a JSON copy, so that a later mutation (or a value JSON
// cannot carry) does not change what the STALLED error reports.
function toJson(details: HeartbeatDetails): JsonValue | undefined {
  try {
    const text = JSON.stringify(details);
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  } catch {
    return '[details not serializable]';
  }
}
