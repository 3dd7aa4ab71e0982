import type { TokenBucketLimits } from './limits.ts';

/**
 * A token bucket on a monotonic clock. It starts full; `take` either spends one token or
 * says how long until one is available. Refill is computed lazily, so an idle bucket costs nothing.
 */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;
  readonly #limits: TokenBucketLimits;

  constructor(limits: TokenBucketLimits, now: number) {
    this.#limits = limits;
    this.#tokens = limits.capacity;
    this.#updatedAt = now;
  }

  /** Spends one token and returns 0, or returns the milliseconds until one is available. */
  take(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) / this.#limits.refillPerSecond) * 1000));
  }

  /** Whether the bucket would be full at `now`: such a bucket can be forgotten and recreated. */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#limits.capacity;
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt;
    if (elapsed > 0 && this.#tokens < this.#limits.capacity) {
      this.#tokens = Math.min(this.#limits.capacity, this.#tokens + (elapsed / 1000) * this.#limits.refillPerSecond);
    }
    this.#updatedAt = now;
  }
}
