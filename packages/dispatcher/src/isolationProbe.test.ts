import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from './defineAgent.ts';
import { createEventHub, type EventHub } from './eventHub.ts';
import type { RunEvent } from './events.ts';
import { createDispatcherFactory } from './factory.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import { runIsolationProbe } from './isolationProbe.ts';
import { createMemorySink } from './memorySink.ts';
import { createInMemoryMetrics } from './metrics.ts';
import { sleep, testTools } from './testSupport.ts';

/** Thinks and calls tools in parallel, with a little jitter so that users interleave. */
const fanOut = defineAgent({
  name: 'fanout',
  description: 'Parallel tool calls',
  input: z.object({ width: z.number().int().min(1).max(8) }),
  async run({ width }, ctx) {
    ctx.think(`fanning out to ${width} calls for ${ctx.context.userId}`);
    const results = await Promise.all(
      Array.from({ length: width }, (_, i) =>
        i % 2 === 0 ? ctx.callTool('add', { a: i, b: 1 }) : ctx.callTool('sleep', { ms: i % 3 }),
      ),
    );
    ctx.think('done');
    return { statuses: results.map((r) => r.status) };
  },
});

function wiredFactory(opts: { publish?: boolean } = {}) {
  const hub = createEventHub();
  const sink = createMemorySink({
    delayMs: (batch) => batch.length % 2,
    ...(opts.publish === false ? {} : { onWrite: (events) => hub.publish(events) }),
  });
  const metrics = createInMemoryMetrics();
  const factory = createDispatcherFactory({ tools: testTools(), agents: [fanOut], sink, metrics });
  return { factory, hub, sink, metrics };
}

describe('runIsolationProbe', () => {
  it('drives 200 users running concurrent agents through the real factory: zero events cross users', async () => {
    const { factory, hub, sink, metrics } = wiredFactory();
    const progress: number[] = [];
    const report = await runIsolationProbe({
      factory,
      hub,
      agent: 'fanout',
      input: { width: 4 },
      users: 200,
      runsPerUser: 2,
      onProgress: (p) => progress.push(p.finishedRuns),
    });
    expect(report).toMatchObject({
      passed: true,
      users: 200,
      runsPerUser: 2,
      runs: 400,
      crossUserDeliveries: [],
      missingDeliveries: [],
      missingDeliveryCount: 0,
      leakedScopes: 0,
      liveScopesAfter: 0,
      sharedContexts: 0,
      contractViolations: 0,
      errors: [],
      runsByStatus: { completed: 400, failed: 0, cancelled: 0, interrupted: 0 },
    });
    // Per run: started, 2 thinking, 4 calls × 2, completed = 12 events.
    expect(report.events).toBe(400 * 12);
    expect(report.deliveries).toBe(report.events);
    expect(progress.at(-1)).toBe(400);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    // What the sink holds obeys the rules run by run.
    const byRun = new Map<string, RunEvent[]>();
    for (const e of sink.events()) byRun.set(e.runId, [...(byRun.get(e.runId) ?? []), e]);
    expect(byRun.size).toBe(400);
    for (const events of byRun.values()) expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    expect(metrics.snapshot().isolationViolations).toBe(0);
    expect(factory.liveScopes()).toBe(0);
  });

  it('reports cross-user deliveries and fails when the hub misroutes events', async () => {
    const { factory, hub } = wiredFactory();
    // A deliberately broken hub (a fake: the real one cannot misroute): every user gets everyone's events.
    const leaky: EventHub = {
      publish: (events) => hub.publish(events),
      subscribe: () => hub.subscribe({ principal: { userId: 'leaky-root', roles: ['admin'] }, scope: 'all' }),
      subscriberCount: () => hub.subscriberCount(),
    };
    const report = await runIsolationProbe({
      factory,
      hub: leaky,
      agent: 'fanout',
      input: { width: 1 },
      users: 3,
      runsPerUser: 1,
    });
    expect(report.passed).toBe(false);
    // Each of 3 users receives the other two users' 6 events.
    expect(report.crossUserDeliveries).toHaveLength(3 * 2 * 6);
    expect(report.crossUserDeliveries[0]).toEqual({
      eventId: expect.any(String),
      ownerUserId: expect.stringMatching(/^probe-/),
      recipientUserId: expect.stringMatching(/^probe-/),
    });
  });

  it('reports missing deliveries when committed events never reach the hub', async () => {
    const { factory, hub } = wiredFactory({ publish: false });
    const report = await runIsolationProbe({
      factory,
      hub,
      agent: 'fanout',
      input: { width: 1 },
      users: 2,
      runsPerUser: 1,
      deliveryTimeoutMs: 20,
    });
    expect(report).toMatchObject({ passed: false, runs: 2, events: 12, deliveries: 0, missingDeliveryCount: 12 });
    expect(report.missingDeliveries[0]).toEqual({ eventId: expect.stringMatching(/:1$/), userId: expect.any(String) });
  });

  it('refuses out-of-range sizes and rejects with CANCELLED when its signal aborts, leaving no scope behind', async () => {
    const { factory, hub } = wiredFactory();
    const base = { factory, hub, agent: 'fanout', input: { width: 1 } };
    await expect(runIsolationProbe({ ...base, users: 0, runsPerUser: 1 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(runIsolationProbe({ ...base, users: 1, runsPerUser: 1.5 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const controller = new AbortController();
    const probe = runIsolationProbe({
      ...base,
      input: { width: 8 },
      users: 20,
      runsPerUser: 50,
      signal: controller.signal,
    });
    await sleep(20);
    controller.abort();
    await expect(probe).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(factory.liveScopes()).toBe(0);
    expect(hub.subscriberCount()).toBe(0);
  });
});
