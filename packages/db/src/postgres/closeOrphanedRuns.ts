import type { RunEvent } from '@toolrun/dispatcher';
import type pg from 'pg';
import { createEventWriter } from '../eventWriter.ts';
import { interruptionEvents, parkedCalls, RECOVERY_CANCEL_REASON } from '../recovery.ts';
import { createRunStateCache } from '../runStateCache.ts';
import { executeBatch } from './executeBatch.ts';
import { LIVE_OWNERS } from './lease.ts';
import { LOCK_NAMESPACE } from './migratePostgres.ts';
import { PG_NOW_MS } from './pgClock.ts';
import { createPgRunStates } from './pgRunStates.ts';

/** The second key of the reaper's transaction-level advisory lock (lease keys are positive, migrations 0). */
const REAPER_LOCK = -1;

/**
 * Which runs are orphans, and how to take them:
 * - `recovery` (at open): the owner's lease lock is not held (its process died; PostgreSQL dropped the
 *   lock with its connection). Waits for rows another transaction holds.
 * - `reap` (the cluster's reaper, `runLeases.reapExpired`): also runs whose lease expired on PostgreSQL's
 *   clock. At most one reaper at a time (transaction-level try-lock: a busy one returns empty), and rows
 *   a commit holds are skipped (`SKIP LOCKED`): they are taken at the next call, never waited for.
 */
export type OrphanSweep = 'recovery' | 'reap';

/**
 * Closes orphaned runs on PostgreSQL, safe with several processes on one database, in one transaction:
 * `tool_completed` `cancelled` per open call, then `agent_completed` `interrupted`, as on SQLite. The runs
 * are locked `FOR UPDATE` and their `status` re-checked, so two processes sweeping at once close each
 * orphan once. The events are checked by a writer of their own (the sink's may have a batch in flight).
 *
 * Approvals as on SQLite, limited to the orphans: an orphan of an agent in `resumableAgents` with an open
 * call whose approval is pending stays `running` and is adopted (its `owner` becomes this process, with a
 * fresh lease when `leaseMs` is set), so `parkedRuns()` here returns it and the next sweep leaves it alone;
 * the orphans' other pending approvals are settled `cancelled`. A live process's approvals are never touched.
 */
export async function closeOrphanedRuns(opts: {
  client: pg.ClientBase;
  sweep: OrphanSweep;
  owner: number;
  /** This process's run lease, when on: adopted runs get one. */
  leaseMs: number | undefined;
  now: () => number;
  resumableAgents: ReadonlySet<string>;
}): Promise<{ events: RunEvent[]; adopted: string[] }> {
  const { client } = opts;
  const states = createPgRunStates();
  const cache = createRunStateCache(states.loader);
  const writer = createEventWriter(cache);
  await client.query('BEGIN');
  try {
    if (opts.sweep === 'reap') {
      const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS ok', [
        LOCK_NAMESPACE,
        REAPER_LOCK,
      ]);
      if (lock.rows[0]?.ok !== true) {
        await client.query('COMMIT');
        return { events: [], adopted: [] };
      }
    }
    const orphaned =
      opts.sweep === 'reap'
        ? `(r.lease_expires_at <= ${PG_NOW_MS} OR r.owner::bigint NOT IN (${LIVE_OWNERS}))`
        : `r.owner::bigint NOT IN (${LIVE_OWNERS})`;
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
       WHERE r.status = 'running' AND ${orphaned}
       ORDER BY r.id
       FOR UPDATE OF r${opts.sweep === 'reap' ? ' SKIP LOCKED' : ''}`,
    );
    // Locked in id order, as commits lock runs (no deadlock with a commit's fencing); closed in start order.
    orphans.rows.sort((a, b) => Number(a.startedAt) - Number(b.startedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (orphans.rows.length === 0) {
      await client.query('COMMIT');
      return { events: [], adopted: [] };
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
    await states.load(client, cache, ids);
    const now = opts.now();
    const closing: RunEvent[] = [];
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
      closing.push(...events);
    }
    await executeBatch(client, draft.build(), opts);
    if (adopted.length > 0) {
      await client.query(
        `UPDATE runs SET owner = $1, lease_expires_at = ${PG_NOW_MS} + $3::bigint WHERE id = ANY($2::text[])`,
        [opts.owner, adopted, opts.leaseMs ?? null],
      );
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
    return { events: closing, adopted };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
