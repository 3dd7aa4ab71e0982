import type { ErrorInfo, JsonValue, RunStatus, ToolCallStatus } from '@toolrun/dispatcher';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * The one drizzle schema of a Toolrun database. Times are integer milliseconds since the epoch;
 * JSON columns hold plain JSON text. Run, event and tool-call rows are written only by the
 * persistent sink (and crash recovery), derived from the events themselves.
 *
 * Edit this file, then run `pnpm --filter @toolrun/db db:generate` and commit `drizzle/`.
 */

/** A run's status in its row: `running` until its `agent_completed` is stored. */
export type RunRecordStatus = 'running' | RunStatus;
/** A tool call's status in its row: `running` until its `tool_completed` is stored. */
export type ToolCallRecordStatus = 'running' | ToolCallStatus;

/** One row per run, created by `agent_started` and finished by `agent_completed`. */
export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    threadId: text('thread_id').notNull(),
    agent: text('agent').notNull(),
    input: text('input', { mode: 'json' }).$type<JsonValue>().notNull(),
    status: text('status').$type<RunRecordStatus>().notNull(),
    result: text('result', { mode: 'json' }).$type<JsonValue>(),
    error: text('error', { mode: 'json' }).$type<ErrorInfo>(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at'),
    durationMs: real('duration_ms'),
    /** Tool calls started (`tool_executing` events) so far. */
    toolCalls: integer('tool_calls').notNull().default(0),
    /** Seq of the last stored event: the next write must start at lastSeq + 1. */
    lastSeq: integer('last_seq').notNull(),
  },
  (t) => [
    index('runs_started_idx').on(t.startedAt, t.id),
    index('runs_user_started_idx').on(t.userId, t.startedAt, t.id),
    index('runs_user_status_started_idx').on(t.userId, t.status, t.startedAt, t.id),
    index('runs_status_started_idx').on(t.status, t.startedAt, t.id),
    index('runs_finished_idx').on(t.finishedAt),
  ],
);

/**
 * Every event of every run. `pos` is the global commit order (AUTOINCREMENT: never reused, even
 * after pruning), which the feed resumes from; `(run_id, seq)` is the natural key and is unique.
 * `data` is the whole event as JSON, returned exactly as it was written.
 */
export const runEvents = sqliteTable(
  'run_events',
  {
    pos: integer('pos').primaryKey({ autoIncrement: true }),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    userId: text('user_id').notNull(),
    type: text('type').notNull(),
    at: integer('at').notNull(),
    data: text('data').notNull(),
  },
  (t) => [
    uniqueIndex('run_events_run_seq_idx').on(t.runId, t.seq),
    index('run_events_user_pos_idx').on(t.userId, t.pos),
  ],
);

/** One row per tool call, opened by `tool_executing` and closed by `tool_completed`. */
export const toolCalls = sqliteTable(
  'tool_calls',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    callId: text('call_id').notNull(),
    tool: text('tool').notNull(),
    /** As redacted in the event. */
    input: text('input', { mode: 'json' }).$type<JsonValue>().notNull(),
    status: text('status').$type<ToolCallRecordStatus>().notNull(),
    output: text('output', { mode: 'json' }).$type<JsonValue>(),
    error: text('error', { mode: 'json' }).$type<ErrorInfo>(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at'),
    durationMs: real('duration_ms'),
    startSeq: integer('start_seq').notNull(),
    endSeq: integer('end_seq'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.callId] })],
);

/** Stored isolation audits (probe reports), newest first in the console. */
export const isolationAudits = sqliteTable(
  'isolation_audits',
  {
    id: text('id').primaryKey(),
    ranBy: text('ran_by').notNull(),
    // Plain text holding JSON (not drizzle's json mode, which writes a JSON null as SQL NULL).
    params: text('params').notNull(),
    report: text('report').notNull(),
    violations: integer('violations').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('isolation_audits_created_idx').on(t.createdAt, t.id)],
);

/** The built-in scratchpad tool's storage: keys per user, never shared. */
export const scratchpadEntries = sqliteTable(
  'scratchpad_entries',
  {
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    /** JSON text; `null` is a valid value, so not drizzle's json mode (which writes it as SQL NULL). */
    value: text('value').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] })],
);

/**
 * Human approvals of tool calls (README "Approvals" in `@toolrun/dispatcher`): one row per call that
 * waited for a person. `state` is `pending` until one compare-and-set settles it (the first
 * decision, the deadline or the run's end wins). `call_input` is the unredacted input the call
 * runs with once approved, kept only while pending (to resume the call after a restart).
 * No foreign key to `runs`: the row is written before the run's events are committed by the writer.
 */
export const approvals = sqliteTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    runId: text('run_id').notNull(),
    userId: text('user_id').notNull(),
    callId: text('call_id').notNull(),
    tool: text('tool').notNull(),
    /** The call's input as redacted in its events, and its SHA-256 (hex, of that JSON text). */
    input: text('input').notNull(),
    inputHash: text('input_hash').notNull(),
    callInput: text('call_input'),
    /** JSON array of the run owner's roles. */
    roles: text('roles').notNull(),
    approvers: text('approvers').notNull(),
    state: text('state').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    decidedAt: integer('decided_at'),
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

/**
 * The admin kill switch per tool, as a log of changes: a tool's state is its latest row (enabled
 * when it has none). Kept whole, so that who turned what off, when and why stays auditable.
 */
export const toolSwitchChanges = sqliteTable(
  'tool_switch_changes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tool: text('tool').notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull(),
    reason: text('reason').notNull(),
    changedBy: text('changed_by').notNull(),
    changedAt: integer('changed_at').notNull(),
  },
  (t) => [index('tool_switch_changes_tool_idx').on(t.tool, t.id)],
);

/**
 * `runs.start` idempotency keys, per user: the first start with a key records the run it made; a
 * repeat with the same parameters (`fingerprint`) gets that run back. Kept at least the configured
 * time (24 h by default), then pruned.
 */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    userId: text('user_id').notNull(),
    key: text('key').notNull(),
    /** A hash of the start's agent, input and thread: a repeat with other parameters is refused. */
    fingerprint: text('fingerprint').notNull(),
    runId: text('run_id').notNull(),
    threadId: text('thread_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

/**
 * Runs accepted while their user was at the concurrent-run limit, waiting for a slot. `pos` is the
 * order of arrival (first in, first out per user); a row leaves when its run starts or ends queued.
 */
export const queuedRuns = sqliteTable(
  'queued_runs',
  {
    pos: integer('pos').primaryKey({ autoIncrement: true }),
    runId: text('run_id').notNull(),
    userId: text('user_id').notNull(),
    threadId: text('thread_id').notNull(),
    /** The caller's roles as JSON text: the run starts later with the rights it was accepted with. */
    roles: text('roles').notNull(),
    agent: text('agent').notNull(),
    /** JSON text of the input as given (not redacted: the agent needs it). */
    input: text('input').notNull(),
    enqueuedAt: integer('enqueued_at').notNull(),
    /** When the run gives up waiting and ends `cancelled`. */
    deadlineAt: integer('deadline_at').notNull(),
    /** The process that restores the row at start (PostgreSQL: its lease key); 0 on SQLite, one process per file. */
    owner: integer('owner').notNull().default(0),
    /**
     * Who took the run to execute it (cluster mode: a worker's lease key; 0 on SQLite), set by one
     * compare-and-set before the run starts: a taken run is never offered again. Null: not taken.
     */
    takenBy: integer('taken_by'),
    /** When it was taken, epoch milliseconds. */
    takenAt: integer('taken_at'),
    /**
     * The W3C trace context (`{ traceparent, tracestate? }` as JSON) of the request that started the
     * run: the parent of its trace wherever it executes. Null: none.
     */
    traceContext: text('trace_context'),
  },
  (t) => [uniqueIndex('queued_runs_run_idx').on(t.runId), index('queued_runs_user_idx').on(t.userId, t.pos)],
);
