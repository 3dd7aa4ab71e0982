import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Transport } from './helpers.ts';
import {
  codeOf,
  collect,
  createClient,
  eventually,
  login,
  orderingProblems,
  startTestServer,
  TRANSPORTS,
  within,
} from './helpers.ts';
import { STORAGES } from './storage.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
const closers: (() => void)[] = [];
const tokens: Record<string, string> = {};

function clientFor(user: string, transport: Transport): Client {
  const { client, close } = createClient(server.url, { transport, token: tokens[user] ?? '' });
  closers.push(close);
  return client;
}

function followRun(client: Client, runId: string, lastEventId?: string) {
  return collect((callbacks) =>
    client.runs.events.subscribe(lastEventId === undefined ? { runId } : { runId, lastEventId }, callbacks),
  );
}

// The whole API suite, once on SQLite and once on PostgreSQL: the server must not care which.
describe.each(STORAGES)('on $name', (storage) => {
  beforeAll(async () => {
    const database = await storage.fresh();
    server = await startTestServer(database === undefined ? {} : { database });
    for (const user of ['alice', 'bob', 'carol']) tokens[user] = await login(server.url, user);
  });
  afterAll(async () => {
    for (const close of closers.splice(0)) close();
    await server.stop();
  });

  describe.each(TRANSPORTS)('runs over %s', (transport) => {
    it('delivers the five event types of a run in order, in tracked messages, and completes after agent_completed', async () => {
      const client = clientFor('alice', transport);
      const { runId, threadId } = await client.runs.start.mutate({ agent: 'calculator', input: { question: '2+3' } });
      const stream = followRun(client, runId);
      const messages = await within(stream.done, 20_000, 'the run stream');
      const events = messages.flatMap((m) => m.events);
      expect(orderingProblems(events)).toEqual([]);
      expect(new Set(events.map((e) => e.type))).toEqual(
        new Set(['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed']),
      );
      for (const message of messages) {
        expect(message.events.length).toBeGreaterThan(0);
        expect(message.id).toBe(message.events.at(-1)?.id);
      }
      expect(events.every((e) => e.userId === 'alice' && e.runId === runId && e.threadId === threadId)).toBe(true);
      const stored = await client.runs.get.query({ runId });
      expect(stored.events).toEqual(events);
      expect(stored.run.status).toBe('completed');
    });

    it('replays a finished run from every lastEventId exactly once, and completes', async () => {
      const client = clientFor('alice', transport);
      const { runId } = await client.runs.start.mutate({ agent: 'parallel', input: { slowSteps: 0 } });
      const all = (await within(followRun(client, runId).done, 20_000, 'the first replay')).flatMap((m) => m.events);
      expect(orderingProblems(all)).toEqual([]);
      for (const [i, event] of all.entries()) {
        const rest = (
          await within(followRun(client, runId, event.id).done, 10_000, `replay after ${event.id}`)
        ).flatMap((m) => m.events);
        expect(rest).toEqual(all.slice(i + 1));
      }
    });

    it('resumes from every lastEventId of a run that is still going, then follows it live to its end', async () => {
      const client = clientFor('bob', transport);
      const { runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 8, delayMs: 150 } });
      const first = followRun(client, runId);
      // agent_started, agent_thinking, tool_executing: everything before the long tool call ends.
      const seen = await first.waitForEvents(3);
      first.unsubscribe();
      const resumes = seen.map((e) => followRun(client, runId, e.id));
      expect((await client.runs.get.query({ runId })).run.status).toBe('running');
      const full = (await within(followRun(client, runId).done, 20_000, 'the full run')).flatMap((m) => m.events);
      expect(orderingProblems(full)).toEqual([]);
      for (const [i, resumed] of resumes.entries()) {
        const rest = (await within(resumed.done, 20_000, 'a resumed stream')).flatMap((m) => m.events);
        expect([...full.slice(0, i + 1), ...rest]).toEqual(full);
      }
    });

    it('keeps a run going when its client goes away (runs are detached from connections)', async () => {
      const client = clientFor('bob', transport);
      const { runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 4, delayMs: 100 } });
      const stream = followRun(client, runId);
      await stream.waitForEvents(1);
      stream.unsubscribe();
      const run = await eventually(async () => {
        const detail = await client.runs.get.query({ runId });
        return detail.run.status === 'running' ? undefined : detail.run;
      });
      expect(run.status).toBe('completed');
      // The dropped subscription let go of its hub subscription too.
      await eventually(() =>
        server.services.hub.subscriberCount() === 0 && server.services.subscriptions().runs === 0 ? true : undefined,
      );
    });

    it('cancels a run on runs.cancel: its stream still ends with the cancelled tool call and agent_completed', async () => {
      const client = clientFor('carol', transport);
      const { runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 40, delayMs: 250 } });
      const stream = followRun(client, runId);
      await stream.waitForEvents(3);
      expect(await client.runs.cancel.mutate({ runId })).toEqual({ runId, cancelled: true });
      const events = (await within(stream.done, 20_000, 'the cancelled stream')).flatMap((m) => m.events);
      expect(orderingProblems(events)).toEqual([]);
      const last = events.at(-1);
      expect(last?.type === 'agent_completed' && last.status).toBe('cancelled');
      expect(events.some((e) => e.type === 'tool_completed' && e.status === 'cancelled')).toBe(true);
      expect(await client.runs.cancel.mutate({ runId })).toEqual({ runId, cancelled: false });
    });

    it('reports a failing tool as an event, never as a subscription error', async () => {
      const client = clientFor('carol', transport);
      const { runId } = await client.runs.start.mutate({ agent: 'flaky', input: { calls: 4, failureRate: 1 } });
      const events = (await within(followRun(client, runId).done, 20_000, 'the flaky stream')).flatMap((m) => m.events);
      expect(orderingProblems(events)).toEqual([]);
      const failed = events.filter((e) => e.type === 'tool_completed' && e.status === 'error');
      expect(failed.length).toBeGreaterThan(0);
    });

    it('refuses a lastEventId of another run with BAD_REQUEST and never replays that run', async () => {
      const client = clientFor('alice', transport);
      const a = await client.runs.start.mutate({ agent: 'calculator', input: {} });
      const b = await client.runs.start.mutate({ agent: 'calculator', input: {} });
      await within(followRun(client, a.runId).done, 20_000, 'run a');
      const wrong = followRun(client, b.runId, `${a.runId}:1`);
      expect(await codeOf(wrong.done)).toBe('BAD_REQUEST');
      expect(wrong.events()).toEqual([]);
    });
  });

  describe.each(TRANSPORTS)('two users at once over %s', (transport) => {
    it("never see each other's events, runs or feed", async () => {
      const alice = clientFor('alice', transport);
      const bob = clientFor('bob', transport);
      const feeds = {
        alice: collect((cb) => alice.runs.feed.subscribe({}, cb)),
        bob: collect((cb) => bob.runs.feed.subscribe({}, cb)),
      };
      // Let both feeds open before the runs start (a feed without lastEventId is live only).
      await new Promise((r) => setTimeout(r, 300));
      const started = await Promise.all([
        alice.runs.start.mutate({ agent: 'parallel', input: { slowSteps: 1 } }),
        bob.runs.start.mutate({ agent: 'parallel', input: { slowSteps: 1 } }),
        alice.runs.start.mutate({ agent: 'calculator', input: {} }),
        bob.runs.start.mutate({ agent: 'calculator', input: {} }),
      ]);
      const [a1, b1, a2, b2] = started.map((s) => s.runId);
      const streams = [
        ['alice', followRun(alice, a1 ?? '')],
        ['bob', followRun(bob, b1 ?? '')],
        ['alice', followRun(alice, a2 ?? '')],
        ['bob', followRun(bob, b2 ?? '')],
      ] as const;
      for (const [user, stream] of streams) {
        const events = (await within(stream.done, 20_000, `${user}'s run`)).flatMap((m) => m.events);
        expect(orderingProblems(events)).toEqual([]);
        expect(events.every((e) => e.userId === user)).toBe(true);
      }
      const feedEvents = (user: 'alice' | 'bob'): RunEvent[] => feeds[user].events();
      const aliceRuns = new Set([a1, a2]);
      const bobRuns = new Set([b1, b2]);
      await eventually(() =>
        feedEvents('alice').filter((e) => e.type === 'agent_completed' && aliceRuns.has(e.runId)).length === 2
          ? true
          : undefined,
      );
      await eventually(() =>
        feedEvents('bob').filter((e) => e.type === 'agent_completed' && bobRuns.has(e.runId)).length === 2
          ? true
          : undefined,
      );
      feeds.alice.unsubscribe();
      feeds.bob.unsubscribe();
      expect(feedEvents('alice').every((e) => e.userId === 'alice')).toBe(true);
      expect(feedEvents('bob').every((e) => e.userId === 'bob')).toBe(true);

      // Another user's run is NOT_FOUND everywhere, exactly like a run that does not exist.
      expect(await codeOf(followRun(bob, a1 ?? '').done)).toBe('NOT_FOUND');
      expect(await codeOf(followRun(bob, 'no-such-run').done)).toBe('NOT_FOUND');
      expect(await codeOf(bob.runs.get.query({ runId: a1 ?? '' }))).toBe('NOT_FOUND');
      expect(await codeOf(bob.runs.cancel.mutate({ runId: a1 ?? '' }))).toBe('NOT_FOUND');
      const bobsList = await bob.runs.list.query({ limit: 100 });
      expect(bobsList.items.every((r) => r.userId === 'bob')).toBe(true);
      expect(bobsList.items.map((r) => r.id)).toEqual(expect.arrayContaining([b1, b2]));
    });
  });
});
