import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunBuilder } from '../../test/fixtures.ts';
import { startPostgres, type TestPostgres } from '../../test/support/startPostgres.ts';
import { openPostgresDatabase } from './openPostgres.ts';

// A server of its own: this file restarts it.
let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server.stop());

/** Polls `check` until it holds; fails after `ms` (a deadline, not an assertion on time). */
async function waitUntil(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function lockHolders(url: string, owner: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND objid = $1::bigint::oid`,
      [owner],
    );
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL lease connection', () => {
  it('re-takes the same lease after PostgreSQL restarts, unhealthy only while it is down, so no other process closes its runs', async () => {
    const url = await server.createDatabase();
    const db = await openPostgresDatabase({ url });
    try {
      const sink = db.createPersistentSink();
      const x = new RunBuilder({ runId: 'x', userId: 'user-1', startMs: Date.now() });
      x.started();
      await sink.write(x.events);
      expect(await db.healthy()).toBe(true);

      await server.restart(async () => {
        await waitUntil(async () => !(await db.healthy()));
      });
      await waitUntil(() => db.healthy());
      expect(await lockHolders(url, db.owner)).toBe(1);

      // Another process starting now finds the run's owner alive: nothing to recover.
      const other = await openPostgresDatabase({ url });
      try {
        expect(other.recovered).toEqual([]);
      } finally {
        await other.close();
      }
      // And the sink commits again over fresh pool connections.
      x.thinking();
      x.completed();
      await sink.write(x.events.slice(1));
      expect(await db.eventsAfter('x', 0)).toEqual(x.events);
    } finally {
      await db.close();
    }
    expect(await lockHolders(url, db.owner)).toBe(0);
  }, 90_000);
});
