import { connect } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createClient, login, startTestServer, tempDir } from './helpers.ts';
import { freePort, killAllChildServers, spawnServer } from './reliability/support/childServer.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(killAllChildServers);

/** Waits until `check` holds (hang guard only, not a timing assertion). */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('hang guard: the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** POSTs a mutation on a raw socket and cuts the connection as soon as the request is written. */
function postAndDrop(baseUrl: string, path: string, token: string, body: unknown): Promise<void> {
  const { hostname, port } = new URL(baseUrl);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `POST /trpc/${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
        () => {
          socket.destroy();
          resolve();
        },
      );
    });
    socket.once('error', reject);
  });
}

describe('exactly-once starts over a real server', () => {
  it('gives one run for a start retried after its connection dropped before the answer', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const token = await login(server.url, 'alice');
    const start = { agent: 'slow', input: { steps: 20, delayMs: 100 }, idempotencyKey: 'checkout-7' };
    await postAndDrop(server.url, 'runs.start', token, start);
    // The server went on with the start the client never heard back from.
    await until(async () => (await server.services.db.listRuns({ limit: 10, userId: 'alice' })).items.length === 1);
    const { client, close } = createClient(server.url, { transport: 'sse', token });
    cleanups.push(close);
    const retried = await client.runs.start.mutate(start);
    const runs = (await server.services.db.listRuns({ limit: 10, userId: 'alice' })).items;
    expect(runs.map((r) => r.id)).toEqual([retried.runId]);
    await client.runs.cancel.mutate({ runId: retried.runId });
  });

  it('stops a silent tool as STALLED within its heartbeat timeout and records its late result, never delivering it', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const token = await login(server.url, 'alice');
    const { client, close } = createClient(server.url, { transport: 'sse', token });
    cleanups.push(close);
    // slow_task's heartbeat timeout is 3 s; it stalls for 6 s, then returns.
    const { runId } = await client.runs.start.mutate({
      agent: 'slow',
      input: { steps: 2, delayMs: 10, stallAtStep: 1 },
      idempotencyKey: 'stall-1',
    });
    await until(async () => (await server.services.db.getRunRecord(runId))?.status === 'completed');
    const { events } = await client.runs.get.query({ runId });
    const completed = events.filter((e) => e.type === 'tool_completed');
    expect(completed).toHaveLength(1);
    const call = completed[0];
    expect(call).toMatchObject({ tool: 'slow_task', status: 'timeout', error: { code: 'STALLED' } });
    // The watchdog, not the tool's 60 s overall timeout, stopped it.
    expect(call?.type === 'tool_completed' ? call.durationMs : 0).toBeLessThan(60_000);
    await until(async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      return /toolrun_late_results_total\{tool="slow_task"\} 1/.test(metrics);
    });
    expect((await client.runs.get.query({ runId })).events.filter((e) => e.type === 'tool_completed')).toHaveLength(1);
  });

  it('bounds one account hammering runs.start: one run per key, a bounded queue, the rest TOO_MANY_REQUESTS', async () => {
    const server = await startTestServer({
      limits: { maxConcurrentRunsPerUser: 1 },
      starts: { maxQueuedRunsPerUser: 4 },
    });
    cleanups.push(() => server.stop());
    const token = await login(server.url, 'mallory');
    const { client, close } = createClient(server.url, { transport: 'sse', token });
    cleanups.push(close);
    // Long enough that its slot stays taken for the whole test.
    const same = { agent: 'slow', input: { steps: 100, delayMs: 500 }, idempotencyKey: 'same' };
    const repeats = await Promise.all(Array.from({ length: 200 }, () => client.runs.start.mutate(same)));
    expect(new Set(repeats.map((r) => r.runId)).size).toBe(1);
    const codes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client.runs.start
          .mutate({ ...same, idempotencyKey: `k-${i}` })
          .then((r) => (r.queued ? 'queued' : 'started'))
          .catch((error: { data?: { code?: string } }) => error.data?.code ?? 'other'),
      ),
    );
    expect(codes.filter((c) => c === 'queued')).toHaveLength(4);
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS')).toHaveLength(196);
    const listed = await client.runs.list.query({ limit: 100, status: 'queued' });
    expect(listed.items.map((r) => r.queued?.position).sort()).toEqual([1, 2, 3, 4]);
    expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
  });
});

describe('the run queue across a real restart', () => {
  it('keeps queued runs through a SIGKILL and starts them after it, in order', { timeout: 120_000 }, async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const port = await freePort();
    const env = { TOOLRUN_MAX_CONCURRENT_RUNS_PER_USER: '1' };
    const first = await spawnServer({ port, dataDir: tmp.dir, env });
    const token = await login(first.url, 'alice');
    const one = createClient(first.url, { transport: 'sse', token });
    const long = await one.client.runs.start.mutate({ agent: 'slow', input: { steps: 100, delayMs: 500 } });
    const b = await one.client.runs.start.mutate({ agent: 'calculator', input: {}, idempotencyKey: 'b' });
    const c = await one.client.runs.start.mutate({ agent: 'calculator', input: {}, idempotencyKey: 'c' });
    expect([b.queued, c.queued]).toEqual([{ position: 1 }, { position: 2 }]);
    one.close();
    await first.stop('SIGKILL');

    const second = await spawnServer({ port, dataDir: tmp.dir, env });
    cleanups.push(async () => {
      await second.stop('SIGTERM');
    });
    const two = createClient(second.url, { transport: 'sse', token });
    cleanups.push(two.close);
    // The same keys still name the same runs after the crash.
    expect((await two.client.runs.start.mutate({ agent: 'calculator', input: {}, idempotencyKey: 'c' })).runId).toBe(
      c.runId,
    );
    await until(async () => (await two.client.runs.get.query({ runId: c.runId })).run.status === 'completed');
    const [interrupted, bRun, cRun] = await Promise.all(
      [long, b, c].map(async ({ runId }) => (await two.client.runs.get.query({ runId })).run),
    );
    expect(interrupted?.status).toBe('interrupted');
    expect(bRun?.status).toBe('completed');
    // First in, first out: b started (and so finished, one at a time) before c.
    expect(Date.parse(bRun?.startedAt ?? '')).toBeLessThanOrEqual(Date.parse(cRun?.startedAt ?? ''));
    const started = (await two.client.runs.get.query({ runId: c.runId })).events[0];
    expect(started?.type === 'agent_started' && started.queuedMs !== undefined && started.queuedMs > 0).toBe(true);
  });
});
