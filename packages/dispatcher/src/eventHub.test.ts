import { describe, expect, it } from 'vitest';
import { createDeliveryLedger } from './deliveryLedger.ts';
import { DispatchError } from './errors.ts';
import { createEventHub } from './eventHub.ts';
import type { RunEvent } from './events.ts';
import { createMemorySink } from './memorySink.ts';
import { createInMemoryMetrics } from './metrics.ts';
import { runAgent } from './runAgent.ts';
import { contextFor, testAgents, testFactory } from './testSupport.ts';

let seq = 0;
function event(userId: string, runId = `run-${userId}`): RunEvent {
  seq += 1;
  return {
    id: `${runId}:${seq}`,
    seq,
    runId,
    userId,
    threadId: 't',
    at: '2026-01-01T00:00:00.000Z',
    type: 'agent_thinking',
    text: 'x',
    step: seq,
  };
}

async function nextBatch(iterator: AsyncIterator<RunEvent[]>): Promise<RunEvent[] | undefined> {
  const result = await iterator.next();
  return result.done ? undefined : result.value;
}

describe('createEventHub', () => {
  it('delivers each event only to its owner’s subscriptions, and records each delivery', async () => {
    const ledger = createDeliveryLedger();
    const hub = createEventHub({ ledger });
    const alice = hub.subscribe({ principal: { userId: 'alice', roles: ['user'] } })[Symbol.asyncIterator]();
    const bob = hub.subscribe({ principal: { userId: 'bob', roles: ['user'] } })[Symbol.asyncIterator]();
    const a1 = event('alice');
    const b1 = event('bob');
    const a2 = event('alice');
    hub.publish([a1, b1, a2]);
    expect(await nextBatch(alice)).toEqual([a1, a2]);
    expect(await nextBatch(bob)).toEqual([b1]);
    expect(ledger.counts()).toEqual({ deliveries: 3, adminViewDeliveries: 0, crossUserDeliveries: 0 });
  });

  it('yields everything queued for a subscriber as one array, in publish order', async () => {
    const hub = createEventHub();
    const sub = hub.subscribe({ principal: { userId: 'alice', roles: ['user'] } });
    const published = [event('alice'), event('alice'), event('alice')];
    for (const e of published) hub.publish([e]);
    const iterator = sub[Symbol.asyncIterator]();
    expect(await nextBatch(iterator)).toEqual(published);
    // A waiting subscriber is woken by the next publish.
    const waiting = nextBatch(iterator);
    const later = event('alice');
    hub.publish([later]);
    expect(await waiting).toEqual([later]);
  });

  it('filters by run', async () => {
    const hub = createEventHub();
    const iterator = hub
      .subscribe({ principal: { userId: 'alice', roles: ['user'] }, runId: 'run-2' })
      [Symbol.asyncIterator]();
    const wanted = event('alice', 'run-2');
    hub.publish([event('alice', 'run-1'), wanted]);
    expect(await nextBatch(iterator)).toEqual([wanted]);
  });

  it('lets only admins watch everyone, and records those deliveries as admin views', async () => {
    const ledger = createDeliveryLedger();
    const hub = createEventHub({ ledger });
    expect(() => hub.subscribe({ principal: { userId: 'alice', roles: ['user'] }, scope: 'all' })).toThrow(
      expect.objectContaining({ code: 'ACCESS_DENIED' }),
    );
    const admin = hub.subscribe({ principal: { userId: 'root-1', roles: ['user', 'admin'] }, scope: 'all' });
    const events = [event('alice'), event('bob'), event('root-1')];
    hub.publish(events);
    expect(await nextBatch(admin[Symbol.asyncIterator]())).toEqual(events);
    expect(ledger.counts()).toEqual({ deliveries: 3, adminViewDeliveries: 2, crossUserDeliveries: 0 });
  });

  it('ends a subscriber that falls more than maxQueuedEvents behind with SLOW_CONSUMER', async () => {
    const metrics = createInMemoryMetrics();
    const hub = createEventHub({ maxQueuedEvents: 3, metrics });
    const sub = hub.subscribe({ principal: { userId: 'alice', roles: ['user'] } });
    hub.publish([event('alice'), event('alice'), event('alice'), event('alice'), event('alice')]);
    const iterator = sub[Symbol.asyncIterator]();
    const error = await iterator.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DispatchError);
    expect((error as DispatchError).code).toBe('SLOW_CONSUMER');
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(hub.subscriberCount()).toBe(0);
    expect(metrics.snapshot().limitHits.SLOW_CONSUMER).toBe(1);
  });

  it('ends iteration on close, dispose, break or signal, and forgets the subscriber', async () => {
    const hub = createEventHub();
    const principal = { userId: 'alice', roles: ['user'] as const };
    const closed = hub.subscribe({ principal });
    const pending = closed[Symbol.asyncIterator]().next();
    closed.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    {
      await using _disposed = hub.subscribe({ principal });
    }
    const controller = new AbortController();
    const signalled = hub.subscribe({ principal, signal: controller.signal });
    const broken = hub.subscribe({ principal });
    hub.publish([event('alice')]);
    for await (const batch of broken) {
      expect(batch).toHaveLength(1);
      break;
    }
    expect(hub.subscriberCount()).toBe(1);
    controller.abort();
    // Closing drops what was still queued: nobody is listening any more.
    expect(await signalled[Symbol.asyncIterator]().next()).toEqual({ value: undefined, done: true });
    expect(hub.subscriberCount()).toBe(0);
  });

  it('refuses a principal with a placeholder id', () => {
    const hub = createEventHub();
    expect(() => hub.subscribe({ principal: { userId: 'anonymous', roles: ['user'] } })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONTEXT' }),
    );
  });

  it('carries a real run from the sink to its owner, batch by batch, as committed', async () => {
    const hub = createEventHub();
    const sink = createMemorySink({ delayMs: 1, onWrite: (events) => hub.publish(events) });
    const { factory } = testFactory({ sink });
    const context = contextFor('alice');
    const sub = hub.subscribe({ principal: { userId: 'alice', roles: ['user'] }, runId: context.runId });
    const planner = testAgents.find((a) => a.name === 'planner');
    if (!planner) throw new Error('planner missing');
    await using scope = factory.forRequest(context);
    await runAgent(scope, planner, { n: 1 });
    const received: RunEvent[] = [];
    for await (const batch of sub) {
      received.push(...batch);
      if (received.at(-1)?.type === 'agent_completed') break;
    }
    expect(received).toEqual(sink.events(context.runId));
  });
});

describe('createDeliveryLedger', () => {
  it('records a delivery to someone other than the owner as a cross-user delivery and an isolation violation', () => {
    const metrics = createInMemoryMetrics();
    const ledger = createDeliveryLedger({ metrics, maxRecorded: 1 });
    const leaked = event('alice');
    ledger.record({ event: leaked, recipientUserId: 'mallory', adminView: false });
    ledger.record({ event: event('alice'), recipientUserId: 'mallory', adminView: false });
    ledger.record({ event: event('alice'), recipientUserId: 'root-1', adminView: true });
    expect(ledger.report()).toEqual({
      deliveries: 3,
      adminViewDeliveries: 1,
      crossUserDeliveryCount: 2,
      crossUserDeliveries: [{ eventId: leaked.id, ownerUserId: 'alice', recipientUserId: 'mallory' }],
    });
    expect(metrics.snapshot().isolationViolationsByKind.cross_user_delivery).toBe(2);
  });
});
