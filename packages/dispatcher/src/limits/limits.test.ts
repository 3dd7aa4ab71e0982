import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './CircuitBreaker.ts';
import { DEFAULT_LIMITS, resolveLimits } from './limits.ts';
import { TokenBucket } from './TokenBucket.ts';

describe('resolveLimits', () => {
  it('merges overrides onto the defaults, nested objects included', () => {
    const limits = resolveLimits({
      toolTimeoutMs: 5,
      rateLimit: { user: { capacity: 3 } },
      redaction: { maxDepth: 4 },
    });
    expect(limits.toolTimeoutMs).toBe(5);
    expect(limits.rateLimit.user).toEqual({
      capacity: 3,
      refillPerSecond: DEFAULT_LIMITS.rateLimit.user.refillPerSecond,
    });
    expect(limits.rateLimit.admin).toEqual(DEFAULT_LIMITS.rateLimit.admin);
    expect(limits.redaction.maxDepth).toBe(4);
    expect(Object.isFrozen(limits.rateLimit.user)).toBe(true);
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS);
  });

  it.each([
    [{ toolTimeoutMs: 0 }, 'toolTimeoutMs'],
    [{ toolTimeoutMs: Number.POSITIVE_INFINITY }, 'toolTimeoutMs'],
    [{ runDeadlineMs: 2 ** 31 }, 'runDeadlineMs'],
    [{ maxScopesPerUser: 1.5 }, 'maxScopesPerUser'],
    [{ rateLimit: { admin: { refillPerSecond: -1 } } }, 'rateLimit.admin.refillPerSecond'],
    [{ redaction: { maxDepth: Number.POSITIVE_INFINITY } }, 'redaction.maxDepth'],
  ])('refuses %j naming %s', (input, field) => {
    expect(() => resolveLimits(input)).toThrow(expect.objectContaining({ code: 'INVALID_LIMITS', details: { field } }));
  });

  it('takes Infinity to switch a count or rate limit off', () => {
    expect(resolveLimits({ maxScopesPerUser: Number.POSITIVE_INFINITY }).maxScopesPerUser).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});

describe('TokenBucket', () => {
  it('starts full, spends one token per take, and says how long until the next', () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 10 }, 0);
    expect([bucket.take(0), bucket.take(0)]).toEqual([0, 0]);
    expect(bucket.take(0)).toBe(100);
    expect(bucket.take(50)).toBe(50);
    expect(bucket.take(100)).toBe(0);
  });

  it('refills up to its capacity and no further', () => {
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1 }, 0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.isFull(10_000_000)).toBe(true);
    expect([bucket.take(10_000_000), bucket.take(10_000_000), bucket.take(10_000_000)]).toEqual([0, 0, 1000]);
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures; a success in between resets the count', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 100 });
    breaker.record('failure', 0);
    breaker.record('success', 0);
    breaker.record('failure', 0);
    expect(breaker.state).toBe('closed');
    breaker.record('failure', 10);
    expect(breaker.state).toBe('open');
    expect(breaker.admit(50)).toBe(60);
  });

  it('half-opens after the cooldown for exactly one trial, which closes or reopens it', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100 });
    breaker.record('failure', 0);
    expect(breaker.admit(100)).toBe(0);
    expect(breaker.state).toBe('half_open');
    expect(breaker.admit(100)).toBeGreaterThan(0);
    breaker.record('failure', 100);
    expect(breaker.state).toBe('open');
    expect(breaker.admit(150)).toBe(50);
    expect(breaker.admit(200)).toBe(0);
    breaker.record('success', 200);
    expect(breaker.state).toBe('closed');
  });

  it('lets a neutral outcome (a cancel) release the trial without judging the tool', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10 });
    breaker.record('failure', 0);
    expect(breaker.admit(10)).toBe(0);
    breaker.record('neutral', 11);
    expect(breaker.state).toBe('half_open');
    expect(breaker.admit(11)).toBe(0);
  });
});
