import type { RunEvent } from '@toolrun/dispatcher';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { contractProblems, RunBuilder } from '../../test/fixtures.ts';
import { spawnPgWriter } from '../../test/spawnPgWriter.ts';
import { useTestPostgres } from '../../test/support/useTestPostgres.ts';
import { waitUntil } from '../../test/support/waitUntil.ts';
import type { RunLeases } from '../database.ts';
import { openStorage } from '../openStorage.ts';
import { type OpenPostgresOptions, openPostgresDatabase, type PostgresDatabase } from './openPostgres.ts';
import { PG_NOW_MS } from './pgClock.ts';

const postgres = useTestPostgres();

async function open(url: string, opts: Omit<OpenPostgresOptions, 'url'>): Promise<PostgresDatabase> {
  return postgres.track(await openPostgresDatabase({ url, ...opts }));
}

function leasesOf(db: PostgresDatabase): RunLeases {
  if (db.runLeases === undefined) throw new Error('opened without runLeaseMs');
  return db.runLeases;
}

async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query({ text, values, rowMode: 'array' })).rows.map((row: unknown[]) => row[0] as T);
  } finally {
    await client.end();
  }
}

/** Waits until every lease of `runIds` has expired on PostgreSQL's clock. */
function leasesExpired(url: string, runIds: string[]): Promise<void> {
  return waitUntil(
    async () =>
      (
        await query<boolean>(url, `SELECT bool_and(lease_expires_at <= ${PG_NOW_MS}) FROM runs WHERE id = ANY($1)`, [
          runIds,
        ])
      )[0] === true,
  );
}

function run(runId: string): RunBuilder {
  return new RunBuilder({ runId, userId: 'user-1', startMs: Date.now() });
}

describe('PostgreSQL run leases', () => {
  it('reaps a run whose lease expired as interrupted, then refuses its process’s late commit while the same batch’s other run commits', async () => {
    const url = await postgres.server.createDatabase();
    const paused = await open(url, { runLeaseMs: 200, renewRunLeases: false });
    const reaper = await open(url, { runLeaseMs: 60_000 });
    const fenced: string[][] = [];
    const committed: RunEvent[] = [];
    const sink = paused.createPersistentSink({
      onCommitted: (events) => committed.push(...events),
      onFenced: (runIds) => fenced.push([...runIds]),
    });
    const x = run('x');
    x.started();
    const call = x.toolExecuting('slow');
    await sink.write(x.events);
    await leasesExpired(url, ['x']);

    const reaped = await leasesOf(reaper).reapExpired();
    expect(reaped.adopted).toEqual([]);
    expect(reaped.events.map((e) => [e.runId, e.seq, e.type])).toEqual([
      ['x', 3, 'tool_completed'],
      ['x', 4, 'agent_completed'],
    ]);
    expect(reaped.events.at(-1)).toMatchObject({ status: 'interrupted', error: { code: 'INTERRUPTED' } });

    // The paused process wakes up and commits x's next events together with a new run y: one group commit.
    x.toolCompleted(call);
    const y = run('y');
    y.started();
    committed.length = 0;
    const [late, fresh] = await Promise.allSettled([sink.write(x.events.slice(2)), sink.write(y.events)]);
    expect(late).toMatchObject({ status: 'rejected', reason: { code: 'RUN_FINISHED' } });
    expect(fresh.status).toBe('fulfilled');
    expect(fenced).toEqual([['x']]);
    expect(committed).toEqual(y.events);
    expect(sink.stats().transactions).toBe(2);

    const stored = await reaper.eventsAfter('x', 0);
    expect(stored.map((e) => e.type)).toEqual(['agent_started', 'tool_executing', 'tool_completed', 'agent_completed']);
    expect(stored.slice(2)).toEqual(reaped.events);
    expect(contractProblems(stored)).toEqual([]);
    expect(await reaper.eventsAfter('y', 0)).toEqual(y.events);

    // Every later write of the fenced run is refused too, and the process's other runs go on.
    const [again, next] = await Promise.allSettled([
      sink.write([x.thinking('still here')]),
      sink.write([y.thinking()]),
    ]);
    expect(again).toMatchObject({ status: 'rejected', reason: { code: 'RUN_FINISHED' } });
    expect(next.status).toBe('fulfilled');
    expect(fenced).toEqual([['x'], ['x']]);
    expect((await reaper.eventsAfter('x', 0)).length).toBe(4);
  }, 60_000);

  it('refuses a commit once the lease expired, even before any reaper closed the run', async () => {
    const url = await postgres.server.createDatabase();
    const paused = await open(url, { runLeaseMs: 200, renewRunLeases: false });
    const fenced: string[] = [];
    const sink = paused.createPersistentSink({ onFenced: (runIds) => fenced.push(...runIds) });
    const x = run('x');
    x.started();
    await sink.write(x.events);
    await leasesExpired(url, ['x']);
    await expect(sink.write([x.thinking()])).rejects.toMatchObject({ code: 'RUN_FINISHED' });
    expect(fenced).toEqual(['x']);
    expect(await paused.getRunRecord('x')).toMatchObject({ status: 'running', lastSeq: 1 });
    expect(await paused.eventsAfter('x', 0)).toEqual(x.events.slice(0, 1));
  }, 60_000);

  it('two processes reaping at once close each expired run exactly once', async () => {
    const url = await postgres.server.createDatabase();
    const paused = await open(url, { runLeaseMs: 200, renewRunLeases: false });
    const sink = paused.createPersistentSink();
    const ids = Array.from({ length: 20 }, (_, i) => `r-${i}`);
    await Promise.all(
      ids.map((id) => {
        const r = run(id);
        r.started();
        r.toolExecuting('slow');
        return sink.write(r.events);
      }),
    );
    await leasesExpired(url, ids);
    const a = await open(url, { runLeaseMs: 60_000 });
    const b = await open(url, { runLeaseMs: 60_000 });
    // A busy reaper returns empty (try-lock): go on until both find nothing, as a cluster's timers would.
    const appended: RunEvent[] = [];
    for (let round = 0; round < 50; round += 1) {
      const both = await Promise.all([leasesOf(a).reapExpired(), leasesOf(b).reapExpired()]);
      for (const r of both) appended.push(...r.events);
      const open = await query<string>(url, "SELECT count(*) FROM runs WHERE status = 'running'");
      if (Number(open[0]) === 0 && both.every((r) => r.events.length === 0)) break;
    }
    expect(new Set(appended.map((e) => e.id)).size).toBe(appended.length);
    expect(
      appended
        .filter((e) => e.type === 'agent_completed')
        .map((e) => e.runId)
        .sort(),
    ).toEqual([...ids].sort());
    for (const id of ids) {
      const events = await a.eventsAfter(id, 0);
      expect(contractProblems(events)).toEqual([]);
      expect(events.filter((e) => e.type === 'agent_completed')).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ status: 'interrupted' });
    }
  }, 60_000);

  it('renewal keeps a long run alive past several lease lengths', async () => {
    const url = await postgres.server.createDatabase();
    const ttl = 1_000;
    const live = await open(url, { runLeaseMs: ttl });
    const reaper = await open(url, { runLeaseMs: ttl });
    const sink = live.createPersistentSink();
    const x = run('x');
    x.started();
    await sink.write(x.events);
    const [firstExpiry] = await query<string>(url, "SELECT lease_expires_at FROM runs WHERE id = 'x'");
    // Four lease lengths later on PostgreSQL's clock, the run is still held and nobody may reap it.
    await waitUntil(
      async () =>
        (await query<boolean>(url, `SELECT ${PG_NOW_MS} > $1::bigint + $2::bigint`, [firstExpiry, 3 * ttl]))[0] ===
        true,
    );
    expect((await leasesOf(reaper).reapExpired()).events).toEqual([]);
    x.thinking();
    x.completed();
    await sink.write(x.events.slice(1));
    expect(await reaper.eventsAfter('x', 0)).toEqual(x.events);
  }, 60_000);

  it('renewal never deadlocks with group commits: 200 runs committing for 3 s under 1.5 s leases lose no write', async () => {
    // Renewal locks every run of the process while commits lock theirs: in different orders they
    // deadlock, and PostgreSQL then fails a whole group commit (or the renewal, and the leases lapse).
    const url = await postgres.server.createDatabase();
    const db = await open(url, { runLeaseMs: 1_500 });
    const sink = db.createPersistentSink();
    const errors: unknown[] = [];
    const until = Date.now() + 3_000;
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        // Ids in the reverse of their start (and lease) order.
        const r = run(`r-${String(199 - i).padStart(3, '0')}`);
        r.started();
        await sink.write(r.events.slice(-1)).catch((error: unknown) => errors.push(error));
        while (Date.now() < until && errors.length === 0) {
          r.thinking();
          await sink.write(r.events.slice(-1)).catch((error: unknown) => errors.push(error));
        }
      }),
    );
    expect(errors).toEqual([]);
    expect(sink.stats().rejected).toBe(0);
  }, 60_000);

  it('reaps the runs of a process killed with SIGKILL at once, long before their leases expire', async () => {
    const url = await postgres.server.createDatabase();
    const reaper = await open(url, { runLeaseMs: 60_000 });
    const doomed = spawnPgWriter(url, 'dead', 5, 'hold', 60_000);
    await doomed.ready;
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');
    const [held] = await query<boolean>(
      url,
      `SELECT bool_and(lease_expires_at > ${PG_NOW_MS} + 30000) FROM runs WHERE id LIKE 'dead-%'`,
    );
    expect(held).toBe(true);
    const reaped = await leasesOf(reaper).reapExpired();
    expect(
      reaped.events
        .filter((e) => e.type === 'agent_completed')
        .map((e) => e.runId)
        .sort(),
    ).toEqual(['dead-0', 'dead-1', 'dead-2', 'dead-3', 'dead-4']);
    expect(await query<string>(url, "SELECT count(*) FROM runs WHERE status = 'running'")).toEqual(['0']);
  }, 60_000);

  it('is off unless asked for: no lease on runs, no runLeases, and SQLite ignores the option', async () => {
    const url = await postgres.server.createDatabase();
    const plain = await open(url, {});
    expect(plain.runLeases).toBeUndefined();
    const sink = plain.createPersistentSink();
    const x = run('x');
    x.started();
    await sink.write(x.events);
    expect(await query(url, "SELECT lease_expires_at FROM runs WHERE id = 'x'")).toEqual([null]);
    const sqlite = await openStorage({ location: ':memory:', runLeaseMs: 1_000 });
    postgres.track(sqlite);
    expect(sqlite.runLeases).toBeUndefined();
    await expect(openPostgresDatabase({ url, runLeaseMs: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
