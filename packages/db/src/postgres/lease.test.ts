import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { RunBuilder } from '../../test/fixtures.ts';
import { useTestPostgres } from '../../test/support/useTestPostgres.ts';
import { waitUntil } from '../../test/support/waitUntil.ts';
import { openPostgresDatabase } from './openPostgres.ts';

// A server of its own: this file restarts it.
const postgres = useTestPostgres();

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
    const url = await postgres.server.createDatabase();
    const db = await openPostgresDatabase({ url });
    try {
      const sink = db.createPersistentSink();
      const x = new RunBuilder({ runId: 'x', userId: 'user-1', startMs: Date.now() });
      x.started();
      await sink.write(x.events);
      expect(await db.healthy()).toBe(true);
      // Listeners of the lease connection: called after it reconnects (what was notified meanwhile is lost).
      const changes: number[] = [];
      let onChange = (): void => {};
      db.toolSwitches.watch(() => {
        changes.push(changes.length);
        onChange();
      });
      const nextChange = () =>
        new Promise<void>((resolve) => {
          onChange = resolve;
        });
      const reread = nextChange();

      await postgres.server.restart(async () => {
        await waitUntil(async () => !(await db.healthy()));
      });
      await waitUntil(() => db.healthy());
      expect(await lockHolders(url, db.owner)).toBe(1);
      await reread;

      // Another process starting now finds the run's owner alive: nothing to recover.
      const other = await openPostgresDatabase({ url });
      try {
        expect(other.recovered).toEqual([]);
        // And the LISTEN is back in force: another process's change reaches this one.
        const notified = nextChange();
        await other.toolSwitches.record({ tool: 'search', enabled: false, reason: 'x', changedBy: 'root' });
        await notified;
        expect(changes.length).toBeGreaterThanOrEqual(2);
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
