import type pg from 'pg';
import type { SqlValue, WriteBatch } from '../writeBatch.js';
import { WIDTHS } from '../writeBatch.js';
import { PG_NOW_MS } from './pgClock.ts';

/** Where each row kind of a {@link WriteBatch} holds its run id. */
const RUN_ID_AT: { readonly [K in keyof WriteBatch]: number } = {
  runs: 0,
  events: 0,
  callStarts: 0,
  callEnds: 6,
  runUpdates: 2,
  runFinishes: 7,
};

/**
 * Fencing, inside a commit's transaction (PostgreSQL with run leases): locks the rows of the runs the
 * batch continues (`FOR UPDATE`, in id order) and leaves out every row of those this process no
 * longer holds (another owner, no longer running, or the lease expired on PostgreSQL's clock). The
 * row lock makes a reaper closing one of these runs and this commit serialise: the reaper skips rows
 * a commit holds, and a commit that waited for a reaper sees the run closed. A run the batch creates
 * that another process created first is left out too.
 */
export async function fenceBatch(
  client: pg.ClientBase,
  batch: WriteBatch,
  owner: number,
): Promise<{ batch: WriteBatch; fenced: Set<string> }> {
  const created = new Set(runIds(batch, 'runs'));
  const continued = [...new Set(runIds(batch, 'events'))].filter((id) => !created.has(id));
  const fenced = new Set<string>();
  if (created.size > 0) {
    // A run another process created first (the cluster closed a run whose worker took it and then
    // stalled before its first commit) is not this process's. A transaction-level lock per new run
    // (one bigint key: apart from the leases' two-key locks) makes two creators serialise, so the
    // later one sees the earlier's row instead of failing its whole batch on the primary key.
    const ids = [...created].sort();
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended(id, 0)) FROM unnest($1::text[]) AS id', [ids]);
    const { rows } = await client.query<{ id: string }>('SELECT id FROM runs WHERE id = ANY($1::text[])', [ids]);
    for (const row of rows) fenced.add(row.id);
  }
  if (continued.length > 0) {
    const { rows } = await client.query<{ id: string; held: boolean }>(
      `SELECT id, (owner = $2 AND status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at > ${PG_NOW_MS})) AS held
       FROM runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [continued, owner],
    );
    for (const row of rows) if (!row.held) fenced.add(row.id);
  }
  return { batch: fenced.size === 0 ? batch : withoutRuns(batch, fenced), fenced };
}

/** The run ids of one row kind, one per row. */
function runIds(batch: WriteBatch, kind: keyof WriteBatch): string[] {
  const ids: string[] = [];
  const rows = batch[kind];
  for (let i = RUN_ID_AT[kind]; i < rows.length; i += WIDTHS[kind]) ids.push(String(rows[i]));
  return ids;
}

/** The batch without any row of `runIds`. */
export function withoutRuns(batch: WriteBatch, runIds: ReadonlySet<string>): WriteBatch {
  const keep = (kind: keyof WriteBatch): SqlValue[] => {
    const rows = batch[kind];
    const width = WIDTHS[kind];
    const out: SqlValue[] = [];
    for (let i = 0; i < rows.length; i += width) {
      if (!runIds.has(String(rows[i + RUN_ID_AT[kind]])))
        for (let j = i; j < i + width; j += 1) out.push(rows[j] ?? null);
    }
    return out;
  };
  return {
    runs: keep('runs'),
    events: keep('events'),
    callStarts: keep('callStarts'),
    callEnds: keep('callEnds'),
    runUpdates: keep('runUpdates'),
    runFinishes: keep('runFinishes'),
  };
}
