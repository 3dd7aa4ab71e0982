import type pg from 'pg';
import type { SqlValue, WriteBatch } from '../writeBatch.js';
import { WIDTHS } from '../writeBatch.js';
import { PG_NOW_MS } from './pgClock.ts';

/**
 * The statements of one group commit on PostgreSQL, each row kind in one statement over `unnest`ed
 * column arrays (any number of rows, one round trip). Run and tool-call rows first, then the feed
 * head, then the events: the head's row lock, which orders every writer's transactions, is held
 * only for the last two statements and the commit.
 */
const SQL = {
  // $10: the lease in ms (null without run leases), measured from PostgreSQL's clock.
  runs: `INSERT INTO runs (id, user_id, thread_id, agent, input, status, started_at, last_seq, tool_calls, owner, lease_expires_at)
    SELECT id, user_id, thread_id, agent, input, 'running', started_at, last_seq, tool_calls, $9, ${PG_NOW_MS} + $10::bigint
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::int[], $8::int[])
      AS t(id, user_id, thread_id, agent, input, started_at, last_seq, tool_calls)`,
  callStarts: `INSERT INTO tool_calls (run_id, call_id, tool, input, status, started_at, start_seq)
    SELECT run_id, call_id, tool, input, 'running', started_at, start_seq
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[])
      AS t(run_id, call_id, tool, input, started_at, start_seq)`,
  callEnds: `UPDATE tool_calls c SET status = v.status, output = v.output, error = v.error, finished_at = v.finished_at,
      duration_ms = v.duration_ms, end_seq = v.end_seq
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[], $6::int[], $7::text[], $8::text[])
      AS v(status, output, error, finished_at, duration_ms, end_seq, run_id, call_id)
    WHERE c.run_id = v.run_id AND c.call_id = v.call_id AND c.status = 'running'`,
  // `status = 'running'`: a run another process finished (recovery) is not advanced; the count shows it.
  runUpdates: `UPDATE runs r SET last_seq = v.last_seq, tool_calls = v.tool_calls
    FROM unnest($1::int[], $2::int[], $3::text[]) AS v(last_seq, tool_calls, id)
    WHERE r.id = v.id AND r.status = 'running' AND r.last_seq <= v.last_seq`,
  runFinishes: `UPDATE runs r SET status = v.status, result = v.result, error = v.error, finished_at = v.finished_at,
      duration_ms = v.duration_ms, last_seq = v.last_seq, tool_calls = v.tool_calls
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[], $6::int[], $7::int[], $8::text[])
      AS v(status, result, error, finished_at, duration_ms, last_seq, tool_calls, id)
    WHERE r.id = v.id AND r.status = 'running' AND r.last_seq <= v.last_seq`,
  head: 'UPDATE feed_head SET pos = pos + $1 WHERE id = 1 RETURNING pos',
  events: `INSERT INTO run_events (pos, run_id, seq, user_id, type, at, data)
    SELECT $1::bigint + o, run_id, seq, user_id, type, at, data
    FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::text[])
      WITH ORDINALITY AS t(run_id, seq, user_id, type, at, data, o)`,
} as const;

/** One flat {@link WriteBatch} array as `width` column arrays. */
function columns(flat: readonly SqlValue[], width: number): SqlValue[][] {
  const out: SqlValue[][] = Array.from({ length: width }, () => []);
  for (let i = 0; i < flat.length; i += 1) out[i % width]?.push(flat[i] ?? null);
  return out;
}

/**
 * Writes a batch inside the caller's transaction on `client`. Throws (and the caller rolls back)
 * on any failure, or when an update finds fewer open rows than it expects: another process wrote
 * these runs, so this process's cached state was stale (the unique `(run_id, seq)` catches the rest).
 */
export async function executeBatch(
  client: pg.ClientBase,
  batch: WriteBatch,
  writer: { owner: number; leaseMs?: number | undefined },
): Promise<void> {
  const rows = (kind: keyof WriteBatch) => batch[kind].length / WIDTHS[kind];
  if (rows('runs') > 0) {
    await client.query(SQL.runs, [...columns(batch.runs, WIDTHS.runs), writer.owner, writer.leaseMs ?? null]);
  }
  if (rows('callStarts') > 0) await client.query(SQL.callStarts, columns(batch.callStarts, WIDTHS.callStarts));
  for (const kind of ['callEnds', 'runUpdates', 'runFinishes'] as const) {
    const expected = rows(kind);
    if (expected === 0) continue;
    const { rowCount } = await client.query(SQL[kind], columns(batch[kind], WIDTHS[kind]));
    if (rowCount !== expected) {
      throw new Error(
        `${kind}: ${rowCount ?? 0} of ${expected} rows were still open (another process wrote these runs)`,
      );
    }
  }
  const events = rows('events');
  if (events === 0) return;
  const head = await client.query<{ pos: string }>(SQL.head, [events]);
  const last = Number(head.rows[0]?.pos ?? Number.NaN);
  if (!Number.isSafeInteger(last)) throw new Error('feed_head is missing: the database was not initialised by Toolrun');
  await client.query(SQL.events, [last - events, ...columns(batch.events, WIDTHS.events)]);
}
