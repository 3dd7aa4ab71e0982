import type { RunEvent } from '@toolrun/dispatcher';
import type pg from 'pg';
import type { EventWriter } from '../eventWriter.ts';
import { interruptionEvents, parkedCalls, RECOVERY_CANCEL_REASON } from '../recovery.ts';
import type { RunStateCache } from '../runStateCache.ts';
import { executeBatch } from './executeBatch.ts';
import { LOCK_NAMESPACE } from './migratePostgres.ts';
import type { PgRunStates } from './pgRunStates.ts';

/**
 * Crash recovery on PostgreSQL, safe with several processes on one database: only runs whose owner
 * no longer holds its lease lock (its process died; PostgreSQL dropped the lock with its connection)
 * are closed, as on SQLite (`tool_completed` `cancelled` per open call, then `agent_completed`
 * `interrupted`), in one transaction. The runs are locked `FOR UPDATE` and re-checked, so two
 * processes recovering at once close each orphan once. Returns the appended events.
 *
 * Approvals as on SQLite, limited to the orphans: an orphan of an agent in `resumableAgents` with an
 * open call whose approval is pending stays `running` and is adopted (its `owner` becomes this
 * process, so `parkedRuns()` here returns it and the next process's recovery leaves it alone); the
 * orphans' other pending approvals are settled `cancelled`. A live process's approvals are never touched.
 */
export async function recoverPostgres(opts: {
  client: pg.ClientBase;
  writer: EventWriter;
  cache: RunStateCache;
  states: PgRunStates;
  owner: number;
  now: () => number;
  resumableAgents: ReadonlySet<string>;
}): Promise<RunEvent[]> {
  const { client, writer } = opts;
  await client.query('BEGIN');
  try {
    const orphans = await client.query<{
      id: string;
      userId: string;
      threadId: string;
      agent: string;
      startedAt: string;
      lastSeq: number;
      toolCalls: number;
    }>(
      `SELECT r.id, r.user_id AS "userId", r.thread_id AS "threadId", r.agent, r.started_at AS "startedAt",
              r.last_seq AS "lastSeq", r.tool_calls AS "toolCalls"
       FROM runs r
       WHERE r.status = 'running' AND NOT EXISTS (
         SELECT 1 FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid = $1::bigint::oid AND l.objid = r.owner::bigint::oid)
       ORDER BY r.started_at, r.id
       FOR UPDATE OF r`,
      [LOCK_NAMESPACE],
    );
    if (orphans.rows.length === 0) {
      await client.query('COMMIT');
      return [];
    }
    const ids = orphans.rows.map((r) => r.id);
    const calls = await client.query<{ runId: string; callId: string; tool: string; startedAt: string }>(
      `SELECT run_id AS "runId", call_id AS "callId", tool, started_at AS "startedAt"
       FROM tool_calls WHERE run_id = ANY($1::text[]) AND status = 'running' ORDER BY run_id, start_seq`,
      [ids],
    );
    const pending = await client.query<{ id: string; runId: string; callId: string }>(
      `SELECT id, run_id AS "runId", call_id AS "callId" FROM approvals
       WHERE state = 'pending' AND run_id = ANY($1::text[]) FOR UPDATE`,
      [ids],
    );
    await opts.states.load(client, opts.cache, ids);
    const now = opts.now();
    const recovered: RunEvent[] = [];
    const draft = writer.begin();
    const adopted: string[] = [];
    const kept = new Set<string>();
    for (const run of orphans.rows) {
      const open = calls.rows
        .filter((c) => c.runId === run.id)
        .map((c) => ({ callId: c.callId, tool: c.tool, startedAt: Number(c.startedAt) }));
      const parked = parkedCalls(run, open, pending.rows, opts.resumableAgents);
      if (parked.size > 0) adopted.push(run.id);
      for (const a of pending.rows) if (a.runId === run.id && parked.has(a.callId)) kept.add(a.id);
      const events = interruptionEvents({ ...run, startedAt: Number(run.startedAt) }, open, now, parked);
      if (events.length === 0) continue;
      draft.add(events);
      recovered.push(...events);
    }
    await executeBatch(client, draft.build(), opts.owner);
    if (adopted.length > 0) {
      await client.query('UPDATE runs SET owner = $1 WHERE id = ANY($2::text[])', [opts.owner, adopted]);
    }
    const cancelled = pending.rows.filter((a) => !kept.has(a.id)).map((a) => a.id);
    if (cancelled.length > 0) {
      await client.query(
        `UPDATE approvals SET state = 'cancelled', decided_at = $1, reason = $2, call_input = NULL
         WHERE id = ANY($3::text[]) AND state = 'pending'`,
        [now, RECOVERY_CANCEL_REASON, cancelled],
      );
    }
    await client.query('COMMIT');
    draft.committed();
    return recovered;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    writer.reset();
    throw error;
  }
}
