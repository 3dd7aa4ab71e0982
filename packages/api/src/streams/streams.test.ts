import { defineAgent, type RunEvent } from '@toolrun/dispatcher';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Principal } from '../auth/createAuth.ts';
import type { ToolrunServices } from '../services.ts';
import { createToolrunServices } from '../services.ts';
import { streamFeed } from './streamFeed.ts';
import { streamRunEvents } from './streamRunEvents.ts';

/** Thinks `n` times, yielding to the event loop every `every` thoughts: many events in a short time. */
const chatty = defineAgent({
  name: 'chatty',
  description: 'Thinks many times',
  input: z.object({ n: z.number().int().min(1).max(1_000), every: z.number().int().min(1).max(100).default(10) }),
  async run({ n, every }, ctx) {
    for (let i = 1; i <= n; i += 1) {
      ctx.think(`thought ${i}`);
      if (i % every === 0) await new Promise((r) => setImmediate(r));
    }
    return { thoughts: n };
  },
});

const SECRET = 'a-secret-for-the-stream-tests-0123456789';
const alice: Principal = { userId: 'alice', roles: ['user'] };
const bob: Principal = { userId: 'bob', roles: ['user'] };
let services: ToolrunServices | undefined;

afterEach(async () => {
  await services?.drain({ graceMs: 1_000 });
  await services?.close();
  services = undefined;
});

async function setup(opts: { maxQueuedEvents?: number; replayPageSize?: number } = {}): Promise<ToolrunServices> {
  services = await createToolrunServices({
    database: ':memory:',
    auth: { mode: 'dev', secret: SECRET },
    extraAgents: [chatty],
    ...(opts.maxQueuedEvents === undefined ? {} : { maxQueuedEvents: opts.maxQueuedEvents }),
    config: { replayPageSize: opts.replayPageSize ?? 500 },
  });
  return services;
}

function start(
  s: ToolrunServices,
  principal: Principal,
  n: number,
  every = 10,
): { runId: string; done: Promise<unknown> } {
  const context = s.factory.createContext({ userId: principal.userId, roles: principal.roles });
  const handle = s.factory.startRun({ context, agent: 'chatty', input: { n, every } });
  return { runId: handle.runId, done: handle.done };
}

describe('streamRunEvents', () => {
  it('recovers from the hub cutting a slow consumer off: every event once, in order, no error', async () => {
    const s = await setup({ maxQueuedEvents: 5 });
    const { runId } = start(s, alice, 200);
    const messages: { id: string; events: RunEvent[] }[] = [];
    let first = true;
    for await (const [id, events] of streamRunEvents({ services: s, principal: alice, runId, afterSeq: 0 })) {
      messages.push({ id, events });
      // Fall behind after the first message, so that far more than 5 events queue up.
      if (first) await new Promise((r) => setTimeout(r, 100));
      first = false;
    }
    const events = messages.flatMap((m) => m.events);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)?.type).toBe('agent_completed');
    expect(events).toEqual(await s.db.eventsAfter(runId, 0));
    for (const m of messages) expect(m.id).toBe(m.events.at(-1)?.id);
    expect(s.metrics.snapshot().limitHits.SLOW_CONSUMER ?? 0).toBeGreaterThan(0);
  });

  it('keeps serving a consumer that falls behind more than 100 times, to the end of the run', async () => {
    const s = await setup({ maxQueuedEvents: 1 });
    const { runId } = start(s, alice, 900, 1);
    const received: RunEvent[] = [];
    for await (const [, events] of streamRunEvents({ services: s, principal: alice, runId, afterSeq: 0 })) {
      received.push(...events);
      const mine = received.length;
      // Let at least three more events queue up (the bound is one), so every message ends in a cut-off.
      for (let i = 0; i < 1_000 && (await s.db.getRunRecord(runId))?.status === 'running'; i += 1) {
        if ((await s.db.eventsAfter(runId, mine)).length >= 3) break;
        await new Promise((r) => setImmediate(r));
      }
    }
    expect(s.metrics.snapshot().limitHits.SLOW_CONSUMER ?? 0).toBeGreaterThan(100);
    expect(received).toEqual(await s.db.eventsAfter(runId, 0));
    expect(received.at(-1)?.type).toBe('agent_completed');
  });

  it('sends nothing more while the connection is not writable, then goes on where it stopped', async () => {
    const s = await setup({ replayPageSize: 10 });
    const { runId, done } = start(s, alice, 40);
    await done;
    let release: () => void = () => {};
    let waits = 0;
    const whenWritable = () => {
      waits += 1;
      // The second message waits until the test releases it.
      if (waits !== 2) return undefined;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    };
    const iterator = streamRunEvents({ services: s, principal: alice, runId, afterSeq: 0, whenWritable });
    const first = await iterator.next();
    let secondArrived = false;
    const second = iterator.next().then((r) => {
      secondArrived = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(secondArrived).toBe(false);
    release();
    const received = [first, await second].flatMap((r) => (r.done ? [] : r.value[1]));
    for await (const [, events] of iterator) received.push(...events);
    expect(received).toEqual(await s.db.eventsAfter(runId, 0));
  });

  it('ends without error, its hub subscription closed, when its signal aborts while waiting to write', async () => {
    const s = await setup({ replayPageSize: 10 });
    const { runId, done } = start(s, alice, 40);
    await done;
    const controller = new AbortController();
    let waits = 0;
    const whenWritable = (signal: AbortSignal) => {
      waits += 1;
      if (waits === 1) return undefined;
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    };
    const iterator = streamRunEvents({
      services: s,
      principal: alice,
      runId,
      afterSeq: 0,
      signal: controller.signal,
      whenWritable,
    });
    expect((await iterator.next()).done).toBe(false);
    const next = iterator.next();
    controller.abort();
    expect(await next).toEqual({ value: undefined, done: true });
    expect(s.hub.subscriberCount()).toBe(0);
  });

  it('replays history in messages of at most the page size, then completes', async () => {
    const s = await setup({ replayPageSize: 50 });
    const { runId, done } = start(s, alice, 120);
    await done;
    const sizes: number[] = [];
    for await (const [, events] of streamRunEvents({ services: s, principal: alice, runId, afterSeq: 10 })) {
      sizes.push(events.length);
    }
    const total = (await s.db.eventsAfter(runId, 10)).length;
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...sizes)).toBe(50);
    expect(sizes.length).toBe(Math.ceil(total / 50));
  });

  it('ends without error when its signal aborts while waiting for live events', async () => {
    const s = await setup();
    const { runId } = start(s, alice, 1);
    const controller = new AbortController();
    const iterator = streamRunEvents({
      services: s,
      principal: alice,
      runId,
      afterSeq: 10_000,
      signal: controller.signal,
    });
    const next = iterator.next();
    controller.abort();
    expect(await next).toEqual({ value: undefined, done: true });
    expect(s.hub.subscriberCount()).toBe(0);
  });
});

describe('streamFeed', () => {
  it("replays the caller's events after an event id, then follows live ones, never another user's", async () => {
    const s = await setup();
    const a1 = start(s, alice, 3);
    const b1 = start(s, bob, 3);
    await Promise.all([a1.done, b1.done]);
    const controller = new AbortController();
    const received: RunEvent[] = [];
    const reading = (async () => {
      for await (const [id, events] of streamFeed({
        services: s,
        principal: alice,
        scope: 'own',
        afterEventId: `${a1.runId}:2`,
        signal: controller.signal,
      })) {
        expect(id).toBe(events.at(-1)?.id);
        received.push(...events);
        if (received.some((e) => e.type === 'agent_completed' && e.runId !== a1.runId)) controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    const a2 = start(s, alice, 3);
    start(s, bob, 3);
    await reading;
    expect(received.every((e) => e.userId === 'alice')).toBe(true);
    expect(received.filter((e) => e.runId === a1.runId).map((e) => e.seq)).toEqual(
      (await s.db.eventsAfter(a1.runId, 2)).map((e) => e.seq),
    );
    expect(received.filter((e) => e.runId === a2.runId)).toEqual(await s.db.eventsAfter(a2.runId, 0));
    expect(s.ledger.counts().crossUserDeliveries).toBe(0);
  });
});
