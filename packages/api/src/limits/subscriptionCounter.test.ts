import { describe, expect, it } from 'vitest';
import { CapError } from './CapError.ts';
import { createSubscriptionCounter } from './subscriptionCounter.ts';

const capOf = (call: () => unknown): string => {
  try {
    call();
    return 'OK';
  } catch (error) {
    if (error instanceof CapError) return error.code;
    throw error;
  }
};

describe('createSubscriptionCounter', () => {
  it('refuses the subscription past the per-user cap, counts nothing for it, and takes one again after a release', () => {
    const counter = createSubscriptionCounter({ perUser: 2, perConnection: 10, ssePerUser: 10 });
    const first = counter.track('feeds', { userId: 'alice' });
    counter.track('runs', { userId: 'alice' });
    expect(capOf(() => counter.track('feeds', { userId: 'alice' }))).toBe('SUBSCRIPTIONS_PER_USER');
    expect(counter.counts()).toEqual({ runs: 1, feeds: 1 });
    // Another user is not affected.
    expect(capOf(() => counter.track('feeds', { userId: 'bob' }))).toBe('OK');
    first();
    first(); // releasing twice counts once
    expect(capOf(() => counter.track('feeds', { userId: 'alice' }))).toBe('OK');
  });

  it('caps one WebSocket connection and one user’s SSE streams on their own, with readable messages', () => {
    const counter = createSubscriptionCounter({ perUser: 100, perConnection: 2, ssePerUser: 1 });
    const ws = { transport: 'ws', id: 'ws-1' } as const;
    counter.track('feeds', { userId: 'alice', connection: ws });
    counter.track('feeds', { userId: 'alice', connection: ws });
    expect(() => counter.track('feeds', { userId: 'alice', connection: ws })).toThrow(/this WebSocket connection/);
    expect(capOf(() => counter.track('feeds', { userId: 'alice', connection: { transport: 'ws', id: 'ws-2' } }))).toBe(
      'OK',
    );
    const sse = { transport: 'sse', id: 'sse' } as const;
    counter.track('runs', { userId: 'alice', connection: sse });
    expect(() => counter.track('runs', { userId: 'alice', connection: sse })).toThrow(/too many SSE streams/);
    expect(capOf(() => counter.track('runs', { userId: 'bob', connection: sse }))).toBe('OK');
  });

  it('only counts a subscription without an owner (in-process callers)', () => {
    const counter = createSubscriptionCounter({ perUser: 0, perConnection: 0, ssePerUser: 0 });
    const release = counter.track('runs');
    expect(counter.counts()).toEqual({ runs: 1, feeds: 0 });
    release();
    expect(counter.counts()).toEqual({ runs: 0, feeds: 0 });
  });
});
