import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  serial,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { RunRecordStatus, ToolCallRecordStatus } from '../schema.ts';

/**
 * The PostgreSQL twin of `src/schema.ts`: the same tables, columns and meanings, so both backends
 * return the same records. Times are epoch milliseconds (`bigint`, read as numbers); JSON columns
 * hold `JSON.stringify` text (not `jsonb`, which would reorder keys and break exact replay).
 *
 * Edit this file together with `src/schema.ts`, then run `pnpm --filter @toolrun/db db:generate`
 * (both dialects) and commit `drizzle/` and `drizzle-pg/`.
 */

const ms = (name: string) => bigint(name, { mode: 'number' });

/** One row per run; `owner` is the lease key of the process that writes it (crash recovery). */
export const runs = pgTable(
  'runs',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    threadId: text('thread_id').notNull(),
    agent: text('agent').notNull(),
    input: text('input').notNull(),
    status: text('status').$type<RunRecordStatus>().notNull(),
    result: text('result'),
    error: text('error'),
    startedAt: ms('started_at').notNull(),
    finishedAt: ms('finished_at'),
    durationMs: doublePrecision('duration_ms'),
    toolCalls: integer('tool_calls').notNull().default(0),
    lastSeq: integer('last_seq').notNull(),
    /** The advisory-lock key the writing process holds while it lives; see `postgres/lease.ts`. */
    owner: integer('owner').notNull(),
    /**
     * With run leases on (`runLeaseMs`): until when (epoch ms on PostgreSQL's clock) `owner` holds
     * the run; renewed by the owner, past it the run is fenced and reaped. Null without leases.
     */
    leaseExpiresAt: ms('lease_expires_at'),
  },
  (t) => [
    index('runs_started_idx').on(t.startedAt, t.id),
    // Renewal (by owner) and the reaper (by expiry) look only at running runs.
    index('runs_running_owner_idx').on(t.owner, t.leaseExpiresAt).where(sql`status = 'running'`),
    index('runs_user_started_idx').on(t.userId, t.startedAt, t.id),
    index('runs_user_status_started_idx').on(t.userId, t.status, t.startedAt, t.id),
    index('runs_status_started_idx').on(t.status, t.startedAt, t.id),
    index('runs_finished_idx').on(t.finishedAt),
  ],
);

/**
 * Every event. `pos` is assigned in the committing transaction from {@link feedHead} (whose row
 * lock orders the transactions), so it is the commit order across processes, as SQLite's is.
 */
export const runEvents = pgTable(
  'run_events',
  {
    pos: bigint('pos', { mode: 'number' }).primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    userId: text('user_id').notNull(),
    type: text('type').notNull(),
    at: ms('at').notNull(),
    data: text('data').notNull(),
  },
  (t) => [
    uniqueIndex('run_events_run_seq_idx').on(t.runId, t.seq),
    index('run_events_user_pos_idx').on(t.userId, t.pos),
  ],
);

/** One row per tool call. */
export const toolCalls = pgTable(
  'tool_calls',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    callId: text('call_id').notNull(),
    tool: text('tool').notNull(),
    input: text('input').notNull(),
    status: text('status').$type<ToolCallRecordStatus>().notNull(),
    output: text('output'),
    error: text('error'),
    startedAt: ms('started_at').notNull(),
    finishedAt: ms('finished_at'),
    durationMs: doublePrecision('duration_ms'),
    startSeq: integer('start_seq').notNull(),
    endSeq: integer('end_seq'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.callId] })],
);

/** Stored isolation audits. */
export const isolationAudits = pgTable(
  'isolation_audits',
  {
    id: text('id').primaryKey(),
    ranBy: text('ran_by').notNull(),
    params: text('params').notNull(),
    report: text('report').notNull(),
    violations: integer('violations').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('isolation_audits_created_idx').on(t.createdAt, t.id)],
);

/** The scratchpad tool's storage, keyed per user. */
export const scratchpadEntries = pgTable(
  'scratchpad_entries',
  {
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] })],
);

/**
 * One row (`id = 1`): the last `pos` handed out. Every group commit locks it first and takes its
 * positions from it, so positions grow in commit order and a feed reader that saw `pos` p has
 * already seen every event with a smaller one.
 */
export const feedHead = pgTable('feed_head', {
  id: integer('id').primaryKey(),
  pos: bigint('pos', { mode: 'number' }).notNull(),
});

/**
 * Human approvals of tool calls, as `approvals` in `src/schema.ts`: `state` is `pending` until one
 * compare-and-set `UPDATE … WHERE state = 'pending'` settles it. No foreign key to `runs`: the row is
 * written before the run's events are committed.
 */
export const approvals = pgTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    runId: text('run_id').notNull(),
    userId: text('user_id').notNull(),
    callId: text('call_id').notNull(),
    tool: text('tool').notNull(),
    input: text('input').notNull(),
    inputHash: text('input_hash').notNull(),
    callInput: text('call_input'),
    roles: text('roles').notNull(),
    approvers: text('approvers').notNull(),
    state: text('state').notNull(),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
    decidedAt: ms('decided_at'),
    decidedBy: text('decided_by'),
    reason: text('reason'),
  },
  (t) => [
    index('approvals_user_created_idx').on(t.userId, t.createdAt, t.id),
    index('approvals_created_idx').on(t.createdAt, t.id),
    index('approvals_run_idx').on(t.runId),
    index('approvals_state_idx').on(t.state),
  ],
);

/** The admin kill switch per tool, as a log of changes (as `tool_switch_changes` in `src/schema.ts`). */
export const toolSwitchChanges = pgTable(
  'tool_switch_changes',
  {
    id: serial('id').primaryKey(),
    tool: text('tool').notNull(),
    enabled: boolean('enabled').notNull(),
    reason: text('reason').notNull(),
    changedBy: text('changed_by').notNull(),
    changedAt: ms('changed_at').notNull(),
  },
  (t) => [index('tool_switch_changes_tool_idx').on(t.tool, t.id)],
);

/** `runs.start` idempotency keys per user (as `idempotency_keys` in `src/schema.ts`). */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    runId: text('run_id').notNull(),
    threadId: text('thread_id').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

/** Runs waiting for a slot (as `queued_runs` in `src/schema.ts`); `pos` is the order of arrival. */
export const queuedRuns = pgTable(
  'queued_runs',
  {
    pos: bigserial('pos', { mode: 'number' }).primaryKey(),
    runId: text('run_id').notNull(),
    userId: text('user_id').notNull(),
    threadId: text('thread_id').notNull(),
    roles: text('roles').notNull(),
    agent: text('agent').notNull(),
    input: text('input').notNull(),
    enqueuedAt: ms('enqueued_at').notNull(),
    deadlineAt: ms('deadline_at').notNull(),
    /**
     * The lease key of the process that queued (or last claimed) the row: only it, or a process that
     * finds it dead, restores the row at start. 0: a row from before owners, anyone's to claim.
     */
    owner: integer('owner').notNull().default(0),
    /**
     * The lease key of the worker that took the run to execute it, set by one compare-and-set before
     * the run starts: a taken run is never enqueued again. Null: not taken.
     */
    takenBy: integer('taken_by'),
    /** When it was taken, epoch milliseconds on PostgreSQL's clock. */
    takenAt: ms('taken_at'),
    /**
     * The W3C trace context (`{ traceparent, tracestate? }` as JSON) of the request that started the
     * run: the parent of its trace wherever it executes. Null: none.
     */
    traceContext: text('trace_context'),
  },
  (t) => [uniqueIndex('queued_runs_run_idx').on(t.runId), index('queued_runs_user_idx').on(t.userId, t.pos)],
);
