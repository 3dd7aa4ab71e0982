import type { AppRouter, RunEvent } from '@toolrun/api';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers.ts';
import { codeOf, collect, createClient, eventually, login, orderingProblems, within } from '../helpers.ts';
import { connectMcp } from '../mcp/support.ts';
import { startOtlpReceiver } from '../operations/support/otlpReceiver.ts';
import type { ChildServer } from '../reliability/support/childServer.ts';
import { holdTableLock, logsAbout, redisCommand } from './backdoors.ts';
import { startTestCluster, type TestCluster } from './support.ts';

// In cluster mode API processes execute no runs: every door (runs.start, tools.run, MCP tools/call)
// makes the run durable and a worker executes it, once, whatever Redis loses or a worker does.

let cluster: TestCluster;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
const closers: (() => void)[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  cluster = await startTestCluster({
    apis: 2,
    workers: 2,
    env: {
      // At info level, workers log each run they start.
      TOOLRUN_LOG_LEVEL: 'info',
      // Every process exports its traces to one real OTLP/HTTP receiver.
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
}, 120_000);

afterAll(async () => {
  for (const close of closers) close();
  await cluster?.stop();
  await receiver?.close();
});

async function clientAt(url: string, userId: string): Promise<Client> {
  const token = await login(url, userId);
  const { client, close } = createClient(url, { transport: 'sse', token });
  closers.push(close);
  return client;
}

/** The workers that logged `run started` for `runId`, once per start. */
function startsOf(runId: string): ChildServer[] {
  return cluster.workers.flatMap((worker) => Array(logsAbout(worker, runId, 'run started')).fill(worker));
}

/** Where `runId` was executed: once, by a worker, and by no API process. */
function executedOnAWorker(runId: string): void {
  expect(startsOf(runId)).toHaveLength(1);
  for (const api of cluster.apis) expect(logsAbout(api, runId, 'run started')).toBe(0);
}

async function eventsOf(client: Client, runId: string): Promise<RunEvent[]> {
  const followed = collect((cb) => client.runs.events.subscribe({ runId }, cb));
  return (await within(followed.done, 60_000, `run ${runId} to end`)).flatMap((m) => m.events);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cluster: a run is executed once, whatever Redis loses or a worker does before its first commit', {
  timeout: 90_000,
}, () => {
  // A run is taken durably (its queued_runs row, compare-and-set in PostgreSQL) before it executes.
  // The window before a run's first commit is milliseconds; these tests widen it by holding a lock on
  // the `runs` table, so that every worker's first commit of a run waits while the run executes.

  it('Redis loses the job of a run a worker executes before its first commit: the sweep never enqueues it again, it runs once', async () => {
    const [a] = cluster.apis;
    if (a === undefined) throw new Error('an API process expected');
    const client = await clientAt(a.url, 'otto');
    const lock = await holdTableLock(cluster.databaseUrl, 'runs');
    let runId = '';
    try {
      ({ runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 4, delayMs: 100 } }));
      await eventually(() => (startsOf(runId).length > 0 ? true : undefined), 30_000);
      // Redis loses the job (its hash) while the worker executes the run.
      expect(await redisCommand(cluster.redis.port, 'DEL', `toolrun:bull:runs:${runId}`)).toBe('1');
      // The sweep runs every 2 s on each worker and looks at rows older than 2 s: three rounds at least.
      await sleep(6_000);
    } finally {
      await lock.release();
    }
    const events = await eventsOf(client, runId);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
    expect(startsOf(runId)).toHaveLength(1);
    for (const worker of cluster.workers) {
      expect(logsAbout(worker, runId, 'the queue had lost a run: enqueued it again')).toBe(0);
    }
  });

  it('a worker SIGKILLed after it took a run, before the run’s first commit: the run ends interrupted, never executed again', async () => {
    const [a, b] = cluster.apis;
    if (a === undefined || b === undefined) throw new Error('two API processes expected');
    const client = await clientAt(a.url, 'tess');
    const watcher = await clientAt(b.url, 'tess');
    const lock = await holdTableLock(cluster.databaseUrl, 'runs');
    let runId = '';
    let victim: ChildServer | undefined;
    try {
      ({ runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 100, delayMs: 100 } }));
      victim = await eventually(() => startsOf(runId)[0], 30_000);
      expect((await victim.stop('SIGKILL')).signal).toBe('SIGKILL');
    } finally {
      await lock.release();
    }
    const events = await eventsOf(watcher, runId);
    expect(orderingProblems(events)).toEqual([]);
    // Nothing of it was stored but its closing: a start, and an interrupted end.
    expect(events.map((e) => e.type)).toEqual(['agent_started', 'agent_completed']);
    expect(events.at(-1)).toMatchObject({ status: 'interrupted', error: { code: 'WORKER_LOST' } });
    cluster.workers.splice(cluster.workers.indexOf(victim), 1, await cluster.spawn('worker'));
    // No worker started it again.
    expect(startsOf(runId)).toHaveLength(0);
  });
});

describe('cluster: API processes execute no runs, whatever the door', { timeout: 90_000 }, () => {
  it('tools.run on API A is executed by a worker, and followed on API B to its result', async () => {
    const [a, b] = cluster.apis;
    if (a === undefined || b === undefined) throw new Error('two API processes expected');
    const client = await clientAt(a.url, 'ursa');
    const { runId } = await client.tools.run.mutate({ tool: 'calculator', input: { expression: '6*7' } });
    const events = await eventsOf(await clientAt(b.url, 'ursa'), runId);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['agent_started', 'tool_executing', 'tool_completed', 'agent_completed']);
    expect(events[2]).toMatchObject({ status: 'success', output: { result: 42 } });
    await eventually(() => (startsOf(runId).length > 0 ? true : undefined), 30_000);
    executedOnAWorker(runId);
  });

  it('a tools.run started on API A is cancelled from API B: the worker executing it stops it', async () => {
    const [a, b] = cluster.apis;
    if (a === undefined || b === undefined) throw new Error('two API processes expected');
    const client = await clientAt(a.url, 'uma');
    const other = await clientAt(b.url, 'uma');
    const { runId } = await client.tools.run.mutate({ tool: 'slow_task', input: { steps: 100, delayMs: 100 } });
    const followed = collect((cb) => other.runs.events.subscribe({ runId }, cb));
    await within(followed.waitForEvents(2, 30_000), 30_000, 'the call to be under way on a worker');
    expect(await other.runs.cancel.mutate({ runId })).toEqual({ runId, cancelled: true });
    const events = (await within(followed.done, 30_000, 'the cancelled tool run')).flatMap((m) => m.events);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'cancelled' });
    executedOnAWorker(runId);
  });

  it('an MCP tools/call on API A (the official SDK Client) runs on a worker and its result comes back', async () => {
    const [a] = cluster.apis;
    if (a === undefined) throw new Error('an API process expected');
    const mcp = await connectMcp(a.url, await login(a.url, 'vera'));
    try {
      const tool = await mcp.client.callTool({ name: 'calculator', arguments: { expression: '6*7' } });
      expect(tool.isError).not.toBe(true);
      expect(tool.structuredContent).toMatchObject({ result: 42 });
      executedOnAWorker(String(tool._meta?.['toolrun/runId']));
      const progress: number[] = [];
      const agent = await mcp.client.callTool(
        { name: 'agent__research', arguments: { question: 'How does the circuit breaker work?' } },
        undefined,
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(agent.isError).not.toBe(true);
      // Its thoughts, committed by the worker, reached the caller as progress through API A.
      expect(progress.length).toBeGreaterThan(0);
      executedOnAWorker(String(agent._meta?.['toolrun/runId']));
    } finally {
      await mcp.close();
    }
  });

  it('an approval decided on API B reaches the worker whose run waits for it, and the run goes on there', async () => {
    const [a, b] = cluster.apis;
    if (a === undefined || b === undefined) throw new Error('two API processes expected');
    const client = await clientAt(a.url, 'wanda');
    const other = await clientAt(b.url, 'wanda');
    const { runId } = await client.runs.start.mutate({ agent: 'payout', input: { amount: 7 } });
    const pending = await eventually(
      async () => (await other.approvals.list.query({ runId, status: 'pending' })).items[0],
      30_000,
    );
    const decided = await other.approvals.decide.mutate({ approvalId: pending.id, decision: 'approve' });
    expect(decided).toMatchObject({ id: pending.id, status: 'approved', decidedBy: 'wanda' });
    // The first decision wins, on any process.
    expect(await codeOf(client.approvals.decide.mutate({ approvalId: pending.id, decision: 'deny' }))).toBe('CONFLICT');
    const events = await eventsOf(other, runId);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
    executedOnAWorker(runId);
  });

  it('a run parked on approval whose worker stops is adopted and resumed by another worker, where a decision on API B reaches it', async () => {
    const [a, b] = cluster.apis;
    if (a === undefined || b === undefined) throw new Error('two API processes expected');
    const client = await clientAt(a.url, 'xena');
    const other = await clientAt(b.url, 'xena');
    const { runId } = await client.runs.start.mutate({ agent: 'payout', input: { amount: 9 } });
    const pending = await eventually(
      async () => (await other.approvals.list.query({ runId, status: 'pending' })).items[0],
      30_000,
    );
    const victim = startsOf(runId)[0];
    if (victim === undefined) throw new Error('no worker started the run');
    // A graceful stop lets go of a run waiting for a person: it stays running, its approval pending.
    expect((await victim.stop('SIGTERM')).code).toBe(0);
    cluster.workers.splice(cluster.workers.indexOf(victim), 1, await cluster.spawn('worker'));
    // Relayed to whichever worker adopted it (until one has, nobody holds the call: NOT_FOUND).
    const decided = await eventually(async () => {
      try {
        return await other.approvals.decide.mutate({ approvalId: pending.id, decision: 'approve' });
      } catch (error) {
        if ((await codeOf(Promise.reject(error))) === 'NOT_FOUND') return undefined;
        throw error;
      }
    }, 60_000);
    expect(decided).toMatchObject({ status: 'approved' });
    const events = await eventsOf(other, runId);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
    const resumers = cluster.workers.filter((w) => logsAbout(w, runId, 'resumed a run parked on approval') > 0);
    expect(resumers).toHaveLength(1);
    for (const api of cluster.apis) expect(logsAbout(api, runId, 'resumed a run parked on approval')).toBe(0);
  });

  it('a run started on API A under a traceparent is traced by its worker under the caller’s trace', async () => {
    const [a] = cluster.apis;
    if (a === undefined) throw new Error('an API process expected');
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const token = await login(a.url, 'yuri');
    const traced = createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${a.url}/trpc`,
          headers: { authorization: `Bearer ${token}`, traceparent: `00-${trace}-${parent}-01` },
        }),
      ],
    });
    const { runId } = await traced.runs.start.mutate({ agent: 'calculator', input: { question: 'What is 6*7?' } });
    const events = await eventsOf(await clientAt(a.url, 'yuri'), runId);
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
    const root = await eventually(
      () =>
        receiver.spans.find(
          (s) => s.attributes['toolrun.run.id'] === runId && s.attributes['gen_ai.tool.call.id'] === undefined,
        ),
      30_000,
    );
    expect(root).toMatchObject({ name: 'invoke_agent calculator', traceId: trace, parentSpanId: parent });
    executedOnAWorker(runId);
  });
});
