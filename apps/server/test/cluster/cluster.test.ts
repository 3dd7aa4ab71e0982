import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers.ts';
import { codeOf, collect, createClient, login, orderingProblems, within } from '../helpers.ts';
import { startTestCluster, type TestCluster } from './support.ts';

let cluster: TestCluster;
const closers: (() => void)[] = [];

beforeAll(async () => {
  // Two concurrent runs per user, across the whole cluster.
  cluster = await startTestCluster({ apis: 2, workers: 2, env: { TOOLRUN_MAX_CONCURRENT_RUNS_PER_USER: '2' } });
}, 120_000);

afterAll(async () => {
  for (const close of closers) close();
  await cluster?.stop();
});

/** A client of API process `index` signed in as `userId`. */
async function clientOf(index: number, userId: string, transport: 'sse' | 'ws' = 'sse'): Promise<Client> {
  const api = cluster.apis[index];
  if (api === undefined) throw new Error(`no API process ${index}`);
  const token = await login(api.url, userId);
  const { client, close } = createClient(api.url, { transport, token });
  closers.push(close);
  return client;
}

/** Runs the workers finished `completed`, from their `/metrics`. */
async function workersCompletedRuns(): Promise<number> {
  let total = 0;
  for (const worker of cluster.workers) {
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    total += Number(/^toolrun_runs_total\{status="completed"\} (\d+)/m.exec(text)?.[1] ?? 0);
  }
  return total;
}

describe('cluster: two API processes and two workers on one PostgreSQL and one Redis', { timeout: 90_000 }, () => {
  it('a run started on API A is executed by a worker and followed live on API B, every event once and in order', async () => {
    const a = await clientOf(0, 'carol');
    const b = await clientOf(1, 'carol', 'ws');
    const { runId } = await a.runs.start.mutate({ agent: 'calculator', input: { question: 'What is (2+3)*4?' } });
    const followed = collect((callbacks) => b.runs.events.subscribe({ runId }, callbacks));
    const messages = await within(followed.done, 30_000, 'following the run on B');
    const events = messages.flatMap((m) => m.events);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
    // Every message's tracked id is its last event's: a resume point on any process.
    for (const message of messages) expect(message.id).toBe(message.events.at(-1)?.id);
    const stored = await a.runs.get.query({ runId });
    expect(stored.run.status).toBe('completed');
    expect(stored.events).toEqual(events);
  });

  it('a stream dropped on API A resumes on API B from its last event id: nothing lost, nothing twice', async () => {
    const a = await clientOf(0, 'dave');
    const b = await clientOf(1, 'dave');
    const { runId } = await a.runs.start.mutate({ agent: 'slow', input: { steps: 6, delayMs: 150 } });
    const first = collect((callbacks) => a.runs.events.subscribe({ runId }, callbacks));
    await within(first.waitForEvents(2, 30_000), 30_000, 'the first events on A');
    first.unsubscribe();
    const lastEventId = first.messages.at(-1)?.id;
    expect(lastEventId).toBeDefined();
    const rest = collect((callbacks) => b.runs.events.subscribe({ runId, lastEventId }, callbacks));
    await within(rest.done, 30_000, 'the rest on B');
    const events = [...first.events(), ...rest.events()];
    expect(orderingProblems(events)).toEqual([]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
  });

  it('a run started on API A is cancelled from API B: the worker running it stops it, and it ends cancelled', async () => {
    const a = await clientOf(0, 'erin');
    const b = await clientOf(1, 'erin');
    const { runId } = await a.runs.start.mutate({ agent: 'slow', input: { steps: 100, delayMs: 100 } });
    const followed = collect((callbacks) => a.runs.events.subscribe({ runId }, callbacks));
    // Running on a worker: its tool call has begun.
    await within(followed.waitForEvents(3, 30_000), 30_000, 'the run to start on a worker');
    expect(await b.runs.cancel.mutate({ runId })).toEqual({ runId, cancelled: true });
    const events = (await within(followed.done, 30_000, 'the cancelled run to end')).flatMap((m) => m.events);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'cancelled' });
  });

  it('the feed on API B shows the runs started on API A, and resumes exactly from any of its ids', async () => {
    const a = await clientOf(0, 'fay');
    const b = await clientOf(1, 'fay');
    const feed = collect((callbacks) => b.runs.feed.subscribe({}, callbacks));
    // The feed is live before the runs start.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const runs = await Promise.all(
      [1, 2, 3].map((n) => a.runs.start.mutate({ agent: 'calculator', input: { question: `What is ${n}+${n}?` } })),
    );
    const ends = () => feed.events().filter((e) => e.type === 'agent_completed').length;
    await within(
      (async () => {
        while (ends() < runs.length) await new Promise((resolve) => setTimeout(resolve, 50));
      })(),
      30_000,
      'the three runs on the feed',
    );
    feed.unsubscribe();
    const seen = feed.events();
    for (const { runId } of runs) {
      const own = seen.filter((e) => e.runId === runId);
      expect(orderingProblems(own)).toEqual([]);
      expect(own.map((e) => e.seq)).toEqual(own.map((_, i) => i + 1));
    }
    // Resuming on A after the first message's id gives exactly the rest, in the same order.
    const firstId = feed.messages[0]?.id;
    const resumed = collect((callbacks) => a.runs.feed.subscribe({ lastEventId: firstId }, callbacks));
    const restCount = seen.length - (feed.messages[0]?.events.length ?? 0);
    const rest = await within(resumed.waitForEvents(restCount, 30_000), 30_000, 'the resumed feed');
    resumed.unsubscribe();
    expect(new Set(rest.map((e) => e.id)).size).toBe(rest.length);
    expect(rest.map((e) => e.id).sort()).toEqual(
      seen
        .slice(seen.length - restCount)
        .map((e) => e.id)
        .sort(),
    );
  });

  it('a worker serves /healthz and /metrics only: the API, MCP, AG-UI and the console are 404 there', async () => {
    const worker = cluster.workers[0];
    if (worker === undefined) throw new Error('no worker');
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${worker.url}/metrics`)).status).toBe(200);
    for (const path of ['/trpc/auth.me', '/mcp', '/agui/calculator', '/']) {
      const res = await fetch(`${worker.url}${path}`);
      expect(res.status, path).toBe(404);
      await res.text();
    }
  });

  it('the per-user concurrent-run limit holds across both workers: never more than 2 of one user’s runs at once', async () => {
    const a = await clientOf(0, 'lena');
    const b = await clientOf(1, 'lena');
    const started = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((n) =>
        (n % 2 === 0 ? a : b).runs.start.mutate({ agent: 'slow', input: { steps: 3, delayMs: 150 } }),
      ),
    );
    const runs = await Promise.all(
      started.map(async ({ runId }) =>
        (await within(collect((cb) => a.runs.events.subscribe({ runId }, cb)).done, 60_000, runId)).flatMap(
          (m) => m.events,
        ),
      ),
    );
    const spans = runs.map((events) => {
      expect(orderingProblems(events)).toEqual([]);
      expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
      return { from: Date.parse(events[0]?.at ?? ''), to: Date.parse(events.at(-1)?.at ?? '') };
    });
    // The most runs of the user under way at any start.
    const overlap = Math.max(...spans.map((s) => spans.filter((o) => o.from <= s.from && s.from < o.to).length));
    expect(overlap).toBeLessThanOrEqual(2);
    // Some waited for a slot.
    expect(runs.some((events) => events[0]?.type === 'agent_started' && (events[0].queuedMs ?? 0) > 0)).toBe(true);
  });

  it('a run waiting behind the user’s limit is cancelled from the other API process before any worker starts it', async () => {
    const a = await clientOf(0, 'quinn');
    const b = await clientOf(1, 'quinn');
    const long = await Promise.all(
      [0, 1].map(() => a.runs.start.mutate({ agent: 'slow', input: { steps: 100, delayMs: 100 } })),
    );
    const followers = long.map(({ runId }) => collect((cb) => a.runs.events.subscribe({ runId }, cb)));
    for (const follower of followers) await within(follower.waitForEvents(3, 30_000), 30_000, 'the long runs');
    const waiting = await a.runs.start.mutate({ agent: 'calculator', input: { question: 'What is 1+1?' } });
    expect(waiting.queued?.position).toBe(1);
    expect(
      await codeOf(a.runs.start.mutate({ agent: 'calculator', input: { question: '2+2?' }, onBusy: 'reject' })),
    ).toBe('TOO_MANY_REQUESTS');
    expect(await b.runs.cancel.mutate({ runId: waiting.runId })).toEqual({ runId: waiting.runId, cancelled: true });
    const events = (
      await within(collect((cb) => b.runs.events.subscribe({ runId: waiting.runId }, cb)).done, 30_000, 'cancelled')
    ).flatMap((m) => m.events);
    // Never executed: its whole life is a start and a cancelled end.
    expect(events.map((e) => e.type)).toEqual(['agent_started', 'agent_completed']);
    expect(events.at(-1)).toMatchObject({ status: 'cancelled' });
    for (const { runId } of long) await b.runs.cancel.mutate({ runId });
    for (const follower of followers) await within(follower.done, 30_000, 'the long runs to end');
  });

  it('admin run control works across processes: an admin on API B lists and cancels a run a worker executes for API A', async () => {
    const a = await clientOf(0, 'zed');
    const token = await login(cluster.apis[1]?.url ?? '', 'root-admin', 'admin');
    const { client: admin, close } = createClient(cluster.apis[1]?.url ?? '', { transport: 'sse', token });
    closers.push(close);
    const { runId } = await a.runs.start.mutate({ agent: 'slow', input: { steps: 100, delayMs: 100 } });
    const followed = collect((cb) => a.runs.events.subscribe({ runId }, cb));
    await within(followed.waitForEvents(3, 30_000), 30_000, 'the run to be under way');
    const toolOutput = async (tool: string, input: Record<string, string>) => {
      const started = await admin.tools.run.mutate({ tool, input });
      const events = (
        await within(collect((cb) => admin.runs.events.subscribe({ runId: started.runId }, cb)).done, 30_000, tool)
      ).flatMap((m) => m.events);
      const completed = events.find((e) => e.type === 'tool_completed');
      return completed?.type === 'tool_completed' ? completed.output : undefined;
    };
    const listed = (await toolOutput('list_active_runs', { userId: 'zed' })) as { runs: { runId: string }[] };
    expect(listed.runs.map((r) => r.runId)).toContain(runId);
    expect(await toolOutput('cancel_run', { runId })).toEqual({ runId, cancelled: true });
    const events = (await within(followed.done, 30_000, 'the cancelled run')).flatMap((m) => m.events);
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'cancelled' });
  });

  it('the isolation probe passes across processes: its runs execute on the workers and every event reaches its owner only', async () => {
    const token = await login(cluster.apis[0]?.url ?? '', 'probe-admin', 'admin');
    const { client: admin, close } = createClient(cluster.apis[0]?.url ?? '', { transport: 'sse', token });
    closers.push(close);
    const before = await workersCompletedRuns();
    const audit = await within(
      admin.audit.isolation.run.mutate({ users: 8, runsPerUser: 2, agent: 'parallel' }),
      120_000,
      'the probe',
    );
    const { report } = audit;
    expect(report.errors).toEqual([]);
    expect(report.crossUserDeliveries).toEqual([]);
    expect(report.missingDeliveryCount).toBe(0);
    expect(report.runs).toBe(16);
    expect(report.runsByStatus.completed).toBe(16);
    expect(report.deliveries).toBeGreaterThanOrEqual(report.events);
    expect(report.passed).toBe(true);
    // Executed by the workers (their finished-run counters), not by the API process.
    expect((await workersCompletedRuns()) - before).toBeGreaterThanOrEqual(16);
    const stored = await admin.runs.list.query({ scope: 'all', agent: 'parallel', limit: 100 });
    expect(stored.items.filter((run) => run.userId.startsWith('probe-')).length).toBe(16);
  });
});
