import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, createClient, login, orderingProblems, tempDir, within } from './helpers.ts';
import { freePort, killAllChildServers, spawnServer } from './reliability/support/childServer.ts';
import { STORAGES } from './storage.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  await killAllChildServers();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const postgres = STORAGES.find((s) => s.name === 'postgres');

describe('the server process on PostgreSQL (TOOLRUN_DATABASE_URL)', () => {
  it('stores nothing in SQLite, and after a SIGKILL the next start closes the run as interrupted and a client resumes it exactly', async () => {
    const url = await postgres?.fresh();
    if (url === undefined) throw new Error('no PostgreSQL storage');
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const port = await freePort();
    const env = { TOOLRUN_DATABASE_URL: url };
    const first = await spawnServer({ port, dataDir: tmp.dir, env });
    const health = (await (await fetch(`${first.url}/healthz`)).json()) as { database: boolean };
    expect(health.database).toBe(true);

    const token = await login(first.url, 'pg-paula');
    const a = createClient(first.url, { transport: 'sse', token });
    const { runId } = await a.client.runs.start.mutate({ agent: 'slow', input: { steps: 40, delayMs: 200 } });
    const before = collect((cb) => a.client.runs.events.subscribe({ runId }, cb));
    const seen = await before.waitForEvents(3);
    before.unsubscribe();
    a.close();
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');

    // Same port, same database: the dead process's run is closed by crash recovery at this start.
    const second = await spawnServer({ port, dataDir: tmp.dir, env });
    cleanups.push(async () => {
      await second.stop('SIGTERM');
    });
    const b = createClient(second.url, { transport: 'ws', token });
    cleanups.push(() => b.close());
    const last = seen.at(-1)?.id ?? '';
    const rest = (
      await within(
        collect((cb) => b.client.runs.events.subscribe({ runId, lastEventId: last }, cb)).done,
        20_000,
        'the resumed stream',
      )
    ).flatMap((m) => m.events);
    const stored = (await b.client.runs.get.query({ runId })).events;
    // The live stream may have delivered more than `seen` before the kill: what matters is that
    // `seen` + the resumed rest is exactly the stored run, ending interrupted.
    const all = [...seen, ...rest];
    expect(orderingProblems(all)).toEqual([]);
    expect(all).toEqual(stored);
    const end = all.at(-1);
    expect(end?.type === 'agent_completed' && end.status).toBe('interrupted');
    expect(existsSync(join(tmp.dir, 'toolrun.db'))).toBe(false);
  }, 240_000);
});
