import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from './helpers.ts';
import {
  collect,
  createClient,
  eventually,
  login,
  orderingProblems,
  startTestServer,
  TEST_SECRET,
  TRANSPORTS,
  tempDir,
  within,
} from './helpers.ts';
import { STORAGES } from './storage.ts';

const SERVER_ROOT = fileURLToPath(new URL('..', import.meta.url));
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('connection drops', () => {
  it('both transports resume by themselves from their last tracked id, losing and repeating nothing', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const token = await login(server.url, 'dropped-dora');
    const clients = TRANSPORTS.map((transport) => createClient(server.url, { transport, token }));
    cleanups.push(() => {
      for (const c of clients) c.close();
    });
    const client = clients[0]?.client as Client;
    const { runId } = await client.runs.start.mutate({ agent: 'parallel', input: { slowSteps: 10 } });
    const streams = clients.map((c) => collect((cb) => c.client.runs.events.subscribe({ runId }, cb)));
    for (const stream of streams) await stream.waitForEvents(3);
    // Cut every connection under the clients' feet, as a network failure would.
    server.http.server.closeAllConnections();
    for (const ws of server.http.wss.clients) ws.terminate();
    const results = await within(Promise.all(streams.map((s) => s.done)), 30_000, 'the resumed streams');
    const stored = await client.runs.get.query({ runId });
    for (const stream of streams) expect(stream.starts()).toBeGreaterThan(1);
    for (const messages of results) {
      const events = messages.flatMap((m) => m.events);
      expect(orderingProblems(events)).toEqual([]);
      expect(events).toEqual(stored.events);
    }
  });
});

describe.each(STORAGES.flatMap((storage) => TRANSPORTS.map((transport) => ({ storage, transport }))))(
  'a server restart over $transport on $storage.name',
  ({ storage, transport }) => {
    it('lets a client resume on the new server, on the same database, from its last event id', async () => {
      const database = await storage.fresh();
      const first = await startTestServer({ graceMs: 5_000, ...(database === undefined ? {} : { database }) });
      const dbPath = first.dbPath;
      const token = await login(first.url, 'restart-rita');
      const a = createClient(first.url, { transport, token });
      const { runId } = await a.client.runs.start.mutate({ agent: 'slow', input: { steps: 6, delayMs: 100 } });
      const before = collect((cb) => a.client.runs.events.subscribe({ runId }, cb));
      const seen = await before.waitForEvents(2);
      before.unsubscribe();
      a.close();
      // Graceful stop: the run finishes within the grace period, every event committed.
      await first.close();

      const second = await startTestServer({ database: dbPath });
      cleanups.push(() => second.stop());
      expect(second.services.db.recovered).toEqual([]);
      const b = createClient(second.url, { transport, token });
      cleanups.push(() => b.close());
      const last = seen.at(-1)?.id ?? '';
      const rest = (
        await within(
          collect((cb) => b.client.runs.events.subscribe({ runId, lastEventId: last }, cb)).done,
          20_000,
          'the resumed stream',
        )
      ).flatMap((m) => m.events);
      const all = [...seen, ...rest];
      expect(orderingProblems(all)).toEqual([]);
      expect(all).toEqual((await b.client.runs.get.query({ runId })).events);
      const end = all.at(-1);
      expect(end?.type === 'agent_completed' && end.status).toBe('completed');
    });
  },
);

describe('SIGTERM', () => {
  it('stops a child-process server gracefully, leaving the run that was going terminal in the database', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: SERVER_ROOT,
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        TOOLRUN_DATA_DIR: tmp.dir,
        TOOLRUN_SECRET: TEST_SECRET,
        TOOLRUN_GRACE_MS: '300',
        TOOLRUN_LOG_LEVEL: 'info',
        TOOLRUN_CONSOLE_DIR: join(tmp.dir, 'no-console'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const url = await eventually(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1], 30_000);

    const token = await login(url, 'sigterm-sam');
    const { client } = createClient(url, { transport: 'sse', token });
    const { runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 40, delayMs: 250 } });
    await eventually(async () => ((await client.runs.get.query({ runId })).events.length >= 3 ? true : undefined));
    child.kill('SIGTERM');
    expect(await within(exited, 20_000, 'the child server exit')).toBe(0);
    expect(output).toContain('shutting down');

    // Reopen the same database: the run ended during shutdown, with its events, and nothing was left to recover.
    const reopened = await startTestServer({ database: join(tmp.dir, 'toolrun.db') });
    cleanups.push(() => reopened.stop());
    expect(reopened.services.db.recovered).toEqual([]);
    const detail = await reopened.services.db.getRun(runId);
    // Ended by the server's drain (the grace period ran out), not by crash recovery at this open.
    expect(['cancelled', 'interrupted']).toContain(detail?.run.status);
    expect(orderingProblems(detail?.events ?? [])).toEqual([]);
  });
});
