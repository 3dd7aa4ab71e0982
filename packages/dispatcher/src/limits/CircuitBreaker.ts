/** The state of one tool's circuit breaker. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * A per-tool circuit breaker: after `failureThreshold` consecutive failures it opens and refuses
 * calls; after `cooldownMs` it half-opens and lets exactly one trial call through, whose outcome
 * closes it again or reopens it for another cooldown.
 */
export class CircuitBreaker {
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;
  readonly #threshold: number;
  readonly #cooldownMs: number;

  constructor(opts: { failureThreshold: number; cooldownMs: number }) {
    this.#threshold = opts.failureThreshold;
    this.#cooldownMs = opts.cooldownMs;
  }

  get state(): CircuitState {
    return this.#state;
  }

  /**
   * Whether a call may start now; returns 0 when it may, otherwise the milliseconds until the
   * breaker half-opens (at least 1). A call that was admitted must be reported with `record`.
   */
  admit(now: number): number {
    switch (this.#state) {
      case 'closed':
        return 0;
      case 'open': {
        const wait = this.#openedAt + this.#cooldownMs - now;
        if (wait > 0) return Math.ceil(wait);
        this.#state = 'half_open';
        this.#trialInFlight = true;
        return 0;
      }
      case 'half_open':
        if (this.#trialInFlight) return 1;
        this.#trialInFlight = true;
        return 0;
      default: {
        const unreachable: never = this.#state;
        throw new Error(`unknown circuit state ${String(unreachable)}`);
      }
    }
  }

  /** Reports how an admitted call ended. `neutral` (a cancel, say) releases a trial without judging the tool. */
  record(outcome: 'success' | 'failure' | 'neutral', now: number): void {
    if (outcome === 'success') {
      this.#failures = 0;
      this.#state = 'closed';
      this.#trialInFlight = false;
      return;
    }
    if (outcome === 'neutral') {
      if (this.#state === 'half_open') this.#trialInFlight = false;
      return;
    }
    this.#failures += 1;
    if (this.#state === 'half_open' || this.#failures >= this.#threshold) {
      this.#state = 'open';
      this.#openedAt = now;
      this.#trialInFlight = false;
    }
  }
}
