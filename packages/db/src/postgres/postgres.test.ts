import type { RunEvent } from '@toolrun/dispatcher';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { contractProblems, RunBuilder } from '../../test/fixtures.ts';
import { spawnPgWriter as writer } from '../../test/spawnPgWriter.ts';
import { useTestPostgres } from '../../test/support/useTestPostgres.ts';
import type { ToolrunDatabase } from '../database.ts';
import { openStorage } from '../openStorage.ts';
import { knownPgMigrations } from './migratePostgres.ts';

const postgres = useTestPostgres();

async function open(url: string): Promise<ToolrunDatabase> {
  return postgres.track(await openStorage({ location: url }));
}

async function query(url: string, text: string): Promise<unknown[][]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query({ text, rowMode: 'array' })).rows as unknown[][];
  } finally {
    await client.end();
  }
}

/** Tables, columns and migration rows: what "untouched" compares. */
async function shape(url: string): Promise<string> {
  const columns = await query(
    url,
    `SELECT table_schema, table_name, column_name FROM information_schema.columns
     WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`,
  );
  const migrations = (await query(url, "SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL"))[0]?.[0]
    ? await query(url, 'SELECT id, hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id')
    : [];
  return JSON.stringify({ columns, migrations });
}

describe('PostgreSQL: several processes on one database', () => {
  it('migrates once when many processes open a fresh database at the same moment', async () => {
    const url = await postgres.server.createDatabase();
    const dbs = await Promise.all(Array.from({ length: 6 }, () => open(url)));
    expect(new Set(dbs.map((db) => db.backend))).toEqual(new Set(['postgres']));
    const rows = await query(url, 'SELECT count(*) FROM drizzle.__drizzle_migrations');
    expect(Number(rows[0]?.[0])).toBe(knownPgMigrations().length);
    expect(await Promise.all(dbs.map((db) => db.healthy()))).toEqual(dbs.map(() => true));
  });

  it('refuses a database migrated by a newer Toolrun, leaving it untouched', async () => {
    const url = await postgres.server.createDatabase();
    await (await openStorage({ location: url })).close();
    await query(
      url,
      `INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('from-the-future', ${Date.UTC(2100, 0, 1)})`,
    );
    const before = await shape(url);
    await expect(openStorage({ location: url })).rejects.toMatchObject({ name: 'DbError', code: 'NEWER_SCHEMA' });
    expect(await shape(url)).toBe(before);
  });

  it('refuses a database with tables of some other program, leaving it untouched', async () => {
    const url = await postgres.server.createDatabase();
    await query(url, 'CREATE TABLE invoices (id int PRIMARY KEY, total numeric)');
    const before = await shape(url);
    await expect(openStorage({ location: url })).rejects.toMatchObject({ code: 'NOT_TOOLRUN_DATABASE' });
    expect(await shape(url)).toBe(before);
  });

  it('two writer processes keep every run gapless, and a reader polling the feed meanwhile misses nothing', async () => {
    const url = await postgres.server.createDatabase();
    const reader = await open(url);
    const a = writer(url, 'a', 30, 'finish');
    const b = writer(url, 'b', 30, 'finish');
    // Follow the all-users feed while both commit: a position seen must never be overtaken by an
    // earlier one committed later (the commit order), or this reader would skip events.
    const followed: RunEvent[] = [];
    let done = false;
    const both = Promise.all([a.ready, b.ready]).finally(() => {
      done = true;
    });
    while (!done) {
      const last = followed.at(-1);
      followed.push(
        ...(await reader.feedAfter({ userId: null, ...(last === undefined ? {} : { afterEventId: last.id }) })),
      );
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await both;
    const last = followed.at(-1);
    followed.push(
      ...(await reader.feedAfter({ userId: null, ...(last === undefined ? {} : { afterEventId: last.id }) })),
    );

    const all = await reader.feedAfter({ userId: null });
    expect(followed).toEqual(all);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const runIds = [...new Set(all.map((e) => e.runId))];
    expect(runIds).toHaveLength(60);
    for (const runId of runIds) {
      const events = await reader.eventsAfter(runId, 0);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(contractProblems(events)).toEqual([]);
      expect(all.filter((e) => e.runId === runId)).toEqual(events);
    }
    for (const user of ['user-0', 'user-1', 'user-2', 'user-3']) {
      const feed = await reader.feedAfter({ userId: user });
      expect(feed).toEqual(all.filter((e) => e.userId === user));
      // Resuming after any of its ids gives exactly the rest (sampled: every 17th id).
      for (let i = 0; i < feed.length; i += 17) {
        expect(await reader.feedAfter({ userId: user, afterEventId: feed[i]?.id ?? '' })).toEqual(feed.slice(i + 1));
      }
    }
  }, 120_000);

  it("closes the runs of a process killed with SIGKILL at the next start, never a live process's runs", async () => {
    const url = await postgres.server.createDatabase();
    const live = await open(url);
    const sink = live.createPersistentSink();
    const mine = new RunBuilder({ runId: 'live-run', userId: 'user-9' });
    mine.started();
    mine.toolExecuting('slow');
    await sink.write(mine.events);

    const doomed = writer(url, 'dead', 5, 'hold');
    await doomed.ready;
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');

    const next = await open(url);
    const closed = next.recovered.filter((e) => e.type === 'agent_completed').map((e) => e.runId);
    expect(closed.sort()).toEqual(['dead-0', 'dead-1', 'dead-2', 'dead-3', 'dead-4']);
    for (const runId of closed) {
      const events = await next.eventsAfter(runId, 0);
      expect(contractProblems(events)).toEqual([]);
      expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'interrupted' });
    }
    // The live process's run is untouched and it keeps writing it.
    expect(await next.getRunRecord('live-run')).toMatchObject({ status: 'running', lastSeq: 2 });
    const slowCall = mine.events[1];
    if (slowCall?.type !== 'tool_executing') throw new Error('fixture: expected tool_executing');
    mine.toolCompleted(slowCall.callId);
    const end = mine.completed();
    await sink.write(mine.events.slice(2));
    expect(await next.eventsAfter('live-run', 0)).toEqual(mine.events);
    expect(end.type).toBe('agent_completed');
    // A third start finds nothing left to recover.
    expect((await open(url)).recovered).toEqual([]);
  }, 60_000);
});
