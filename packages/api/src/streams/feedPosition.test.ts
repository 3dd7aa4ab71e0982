import { defineAgent, type RunEvent } from '@toolrun/dispatcher';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Principal } from '../auth/createAuth.ts';
import type { ToolrunServices } from '../services.ts';
import { createToolrunServices } from '../services.ts';
import { streamFeed } from './streamFeed.ts';

const counter = defineAgent({
  name: 'counter',
  description: 'Thinks n times',
  input: z.object({ n: z.number().int().min(1).max(100) }),
  async run({ n }, ctx) {
    for (let i = 1; i <= n; i += 1) ctx.think(`thought ${i}`);
    return { thoughts: n };
  },
});

const alice: Principal = { userId: 'alice', roles: ['user'] };
const admin: Principal = { userId: 'root', roles: ['admin'] };
let services: ToolrunServices | undefined;

afterEach(async () => {
  await services?.drain({ graceMs: 1_000 });
  await services?.close();
  services = undefined;
});

/**
 * Services as a cluster's API process sees them, with the live path lost: commits do not reach the hub
 * (`publishToHub: false`, and no tailer feeds it), as when Redis is down, and feeds read the database
 * (`feedFromDatabase`). Only a resync (what the tailer asks for when Redis comes back) can deliver.
 */
async function clusterWithoutLiveEvents(): Promise<ToolrunServices> {
  services = await createToolrunServices({
    database: ':memory:',
    auth: { mode: 'dev', secret: 'a-secret-for-the-feed-position-tests-0123' },
    extraAgents: [counter],
    // The cluster's publisher would go here; nothing carries its events to any hub.
    cluster: { publishToHub: false, onCommitted: () => {}, feedFromDatabase: true },
  });
  return services;
}

async function runToEnd(s: ToolrunServices, principal: Principal, n: number): Promise<string> {
  const context = s.factory.createContext({ userId: principal.userId, roles: principal.roles });
  const handle = s.factory.startRun({ context, agent: 'counter', input: { n } });
  await handle.done;
  await s.sink.flush();
  return handle.runId;
}

/** Waits (bounded) until `check` holds, yielding to timers between tries. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !check(); i += 1) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition not met');
}

/** The feed's next message; a hang guard turns "never delivered" into a failure. */
async function delivered<T>(next: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the feed delivered nothing after the resync')), 5_000);
  });
  try {
    return await Promise.race([next, guard]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a feed opened without lastEventId in cluster mode (feedFromDatabase)', () => {
  for (const scope of ['own', 'all'] as const) {
    it(`takes its position at subscribe time (${scope}), so a resync delivers what was committed while the live path was lost, and nothing from before`, async () => {
      const s = await clusterWithoutLiveEvents();
      const before = await runToEnd(s, alice, 3);
      const feed = streamFeed({ services: s, principal: scope === 'all' ? admin : alice, scope });
      const first = feed.next();
      // The feed is subscribed (its position taken) once it listens to the hub.
      await until(() => s.hub.subscriberCount() === 1);
      const during = await runToEnd(s, alice, 4);
      // Redis is back: the tailer asks every subscription to re-read the database.
      s.resync();
      const received: RunEvent[] = [];
      let next = await delivered(first);
      while (!next.done) {
        const [id, events] = next.value;
        expect(id).toBe(events.at(-1)?.id);
        received.push(...events);
        if (events.at(-1)?.type === 'agent_completed') break;
        next = await delivered(feed.next());
      }
      await feed.return(undefined);
      expect(received).toEqual(await s.db.eventsAfter(during, 0));
      expect(received.some((e) => e.runId === before)).toBe(false);
    });
  }
});

describe('feeds re-reading the database on each live batch (feedFromDatabase)', () => {
  // In cluster mode every live batch makes every feed of a process read the database after its
  // position; the feeds that are caught up all ask the same page at once (40 admins' every-user feeds
  // in the soak, for every batch of every user).
  it('caught-up feeds of one process share one read per live batch, and each still receives every event, once', async () => {
    const s = await createToolrunServices({
      database: ':memory:',
      auth: { mode: 'dev', secret: 'a-secret-for-the-feed-position-tests-0123' },
      extraAgents: [counter],
      cluster: { publishToHub: true, onCommitted: () => {}, feedFromDatabase: true },
    });
    services = s;
    let reads = 0;
    const feedAfter = s.db.feedAfter.bind(s.db);
    s.db.feedAfter = async (opts) => {
      reads += 1;
      const stored = await feedAfter(opts);
      // A read takes a round trip on PostgreSQL; in memory it would end before the next feed asks.
      await new Promise((resolve) => setTimeout(resolve, 20));
      return stored;
    };
    let batches = 0;
    const publish = s.hub.publish.bind(s.hub);
    s.hub.publish = (events) => {
      batches += 1;
      publish(events);
    };
    const feeds = Array.from({ length: 10 }, () => streamFeed({ services: s, principal: admin, scope: 'all' }));
    const firsts = feeds.map((feed) => feed.next());
    // Each feed subscribed, took its position and read (nothing) after it: all caught up.
    await until(() => s.hub.subscriberCount() === 10 && reads === 10);
    reads = 0;
    batches = 0;
    const runId = await runToEnd(s, alice, 5);
    const stored = await s.db.eventsAfter(runId, 0);
    for (const [i, feed] of feeds.entries()) {
      const received: RunEvent[] = [];
      let next = await delivered(firsts[i] ?? feed.next());
      while (!next.done) {
        received.push(...next.value[1]);
        if (received.at(-1)?.type === 'agent_completed') break;
        next = await delivered(feed.next());
      }
      await feed.return(undefined);
      expect(received).toEqual(stored);
    }
    expect(batches).toBeGreaterThan(0);
    // One read per batch for all ten, and at most one more each time a shared read came too early.
    expect(reads).toBeLessThanOrEqual(2 * batches);
  });
});
