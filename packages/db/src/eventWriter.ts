import type { RunEvent } from '@toolrun/dispatcher';
import type Database from 'better-sqlite3';
import { DbError } from './errors.ts';
import { createRunStateCache, type RunState } from './runStateCache.ts';

type Statement = Database.Statement<unknown[]>;

/**
 * A run's state as a write would leave it. `closed` is shared with the cached state (it only grows
 * and can be long); this write's completed callIds are in `closedNow` until the write has run.
 */
interface DraftState extends RunState {
  closedNow: Set<string>;
}

/** A write that passed {@link EventWriter.check}: the statements to run and the run states they lead to. */
export interface CheckedWrite {
  readonly events: readonly RunEvent[];
  readonly ops: readonly { stmt: Statement; args: unknown[]; expectOneRow?: boolean }[];
  readonly after: ReadonlyMap<string, DraftState>;
}

/**
 * Writes events and the run / tool-call rows derived from them, in two steps so that one bad write
 * never costs the other writes of its group commit anything: `check` validates the write against
 * the runs' current state and serialises it without touching the database (refusals are thrown
 * here); `run` executes it inside the caller's transaction and must follow its `check` directly.
 * If `run` throws, the caller rolls the transaction back and calls `reset()`.
 */
export interface EventWriter {
  /** Throws {@link DbError} `OUT_OF_ORDER`, `INVALID_EVENT` or `RUN_FINISHED` for a write that must be refused. */
  check(events: readonly RunEvent[]): CheckedWrite;
  run(write: CheckedWrite): void;
  /** Forgets cached run state; call after a rolled-back transaction. */
  reset(): void;
}

/**
 * The hot path of the persistent sink: prepared better-sqlite3 statements (building each query
 * through drizzle costs 3-4x more here, see ANCHORS.md) and a cache of active runs' state, so a
 * typical write costs its event inserts plus one run-row update.
 */
export function createEventWriter(sqlite: Database.Database, opts: { maxCachedRuns?: number } = {}): EventWriter {
  const cache = createRunStateCache(sqlite, opts.maxCachedRuns);
  const prepare = (sql: string): Statement => sqlite.prepare<unknown[]>(sql);
  const insertRun = prepare(
    "INSERT INTO runs (id, user_id, thread_id, agent, input, status, started_at, tool_calls, last_seq) VALUES (?, ?, ?, ?, ?, 'running', ?, 0, 1)",
  );
  const insertEvent = prepare(
    'INSERT INTO run_events (run_id, seq, user_id, type, at, data) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertToolCall = prepare(
    "INSERT INTO tool_calls (run_id, call_id, tool, input, status, started_at, start_seq) VALUES (?, ?, ?, ?, 'running', ?, ?)",
  );
  const completeToolCall = prepare(
    "UPDATE tool_calls SET status = ?, output = ?, error = ?, finished_at = ?, duration_ms = ?, end_seq = ? WHERE run_id = ? AND call_id = ? AND status = 'running'",
  );
  const advanceRun = prepare('UPDATE runs SET last_seq = ?, tool_calls = ? WHERE id = ?');
  const finishRun = prepare(
    'UPDATE runs SET status = ?, result = ?, error = ?, finished_at = ?, duration_ms = ?, last_seq = ?, tool_calls = ? WHERE id = ?',
  );

  const checkOne = (
    event: RunEvent,
    after: Map<string, DraftState>,
    ops: CheckedWrite['ops'][number][],
    created: Set<string>,
  ): void => {
    checkEnvelope(event);
    const { runId, seq } = event;
    const at = Date.parse(event.at);
    let state = after.get(runId);
    if (state === undefined) {
      const current = cache.get(runId);
      if (current !== undefined) {
        // Open calls are few (bounded by the parallel-call limit); copying them keeps the cache untouched.
        state = { ...current, open: new Map(current.open), closedNow: new Set() };
        after.set(runId, state);
      }
    }
    const eventRow = { stmt: insertEvent, args: [runId, seq, event.userId, event.type, at, json(event)] };
    if (state === undefined) {
      if (seq !== 1) throw new DbError('OUT_OF_ORDER', `${event.id}: run ${runId} has no events yet; expected seq 1`);
      if (event.type !== 'agent_started') {
        throw new DbError('INVALID_EVENT', `${event.id}: a run's first event must be agent_started, got ${event.type}`);
      }
      const { userId, threadId } = event;
      ops.push({ stmt: insertRun, args: [runId, userId, threadId, event.agent, json(event.input), at] }, eventRow);
      const fresh: DraftState = {
        userId,
        threadId,
        status: 'running',
        lastSeq: 1,
        toolCalls: 0,
        open: new Map(),
        closed: new Set(),
        closedNow: new Set(),
      };
      after.set(runId, fresh);
      created.add(runId);
      return;
    }
    if (seq !== state.lastSeq + 1) {
      throw new DbError('OUT_OF_ORDER', `${event.id}: expected seq ${state.lastSeq + 1} for run ${runId}`);
    }
    if (state.status !== 'running') {
      throw new DbError('RUN_FINISHED', `${event.id}: run ${runId} already ended (${state.status})`);
    }
    if (event.userId !== state.userId || event.threadId !== state.threadId) {
      throw new DbError('INVALID_EVENT', `${event.id}: userId/threadId differ from the run's agent_started`);
    }
    state.lastSeq = seq;
    ops.push(eventRow);
    switch (event.type) {
      case 'agent_started':
        throw new DbError('INVALID_EVENT', `${event.id}: agent_started is only valid as seq 1`);
      case 'agent_thinking':
        return;
      case 'tool_executing':
        if (state.open.has(event.callId) || state.closed.has(event.callId) || state.closedNow.has(event.callId)) {
          throw new DbError('INVALID_EVENT', `${event.id}: duplicate callId ${event.callId}`);
        }
        state.open.set(event.callId, event.tool);
        state.toolCalls += 1;
        ops.push({ stmt: insertToolCall, args: [runId, event.callId, event.tool, json(event.input), at, seq] });
        return;
      case 'tool_completed': {
        if (state.open.get(event.callId) !== event.tool) {
          throw new DbError(
            'INVALID_EVENT',
            `${event.id}: tool_completed without an open tool_executing ${event.callId}`,
          );
        }
        state.open.delete(event.callId);
        state.closedNow.add(event.callId);
        const output = event.output === undefined ? null : json(event.output);
        const error = event.error === undefined ? null : json(event.error);
        const args = [event.status, output, error, at, event.durationMs, seq, runId, event.callId];
        ops.push({ stmt: completeToolCall, args, expectOneRow: true });
        return;
      }
      case 'agent_completed': {
        if (state.open.size > 0) {
          throw new DbError('INVALID_EVENT', `${event.id}: run ends with ${state.open.size} open tool call(s)`);
        }
        state.status = event.status;
        const result = event.result === undefined ? null : json(event.result);
        const error = event.error === undefined ? null : json(event.error);
        const args = [event.status, result, error, at, event.durationMs, seq, state.toolCalls, runId];
        ops.push({ stmt: finishRun, args });
        return;
      }
      default: {
        const never: never = event;
        throw new DbError('INVALID_EVENT', `unknown event type ${String((never as { type?: unknown }).type)}`);
      }
    }
  };

  return {
    check(events) {
      const after = new Map<string, DraftState>();
      const ops: CheckedWrite['ops'][number][] = [];
      const created = new Set<string>();
      try {
        for (const event of events) checkOne(event, after, ops, created);
      } catch (error) {
        if (error instanceof DbError) throw error;
        // A malformed event (not an object, a BigInt in a payload) is the write's fault, not the transaction's.
        throw new DbError('INVALID_EVENT', error instanceof Error ? error.message : String(error), { cause: error });
      }
      for (const [runId, state] of after) {
        // finishRun already set a finished run's row; insertRun set a new run's row at seq 1.
        if (state.status === 'running' && !(created.has(runId) && state.lastSeq === 1)) {
          ops.push({ stmt: advanceRun, args: [state.lastSeq, state.toolCalls, runId] });
        }
      }
      return { events, ops, after };
    },
    run(write) {
      for (const op of write.ops) {
        const { changes } = op.stmt.run(...op.args);
        // check() saw this tool call open; a row that disagrees means stale state: fail the transaction.
        if (op.expectOneRow === true && changes !== 1) throw new DbError('WRITE_FAILED', 'tool call row is not open');
      }
      for (const [runId, { closedNow, ...state }] of write.after) {
        for (const callId of closedNow) state.closed.add(callId);
        cache.set(runId, state);
      }
    },
    reset() {
      cache.clear();
    },
  };
}

function checkEnvelope(event: RunEvent): void {
  if (typeof event !== 'object' || event === null) throw new DbError('INVALID_EVENT', 'an event must be an object');
  const { id, runId, seq, userId, threadId, at } = event;
  if (typeof runId !== 'string' || runId === '' || typeof userId !== 'string' || userId === '') {
    throw new DbError('INVALID_EVENT', `${String(id)}: runId and userId must be non-empty strings`);
  }
  if (typeof threadId !== 'string' || threadId === '') {
    throw new DbError('INVALID_EVENT', `${String(id)}: threadId must be a non-empty string`);
  }
  if (!Number.isSafeInteger(seq) || seq < 1)
    throw new DbError('INVALID_EVENT', `${String(id)}: seq must be a positive integer`);
  if (id !== `${runId}:${seq}`) throw new DbError('INVALID_EVENT', `${String(id)}: id must be ${runId}:${seq}`);
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) {
    throw new DbError('INVALID_EVENT', `${id}: at must be an ISO-8601 time`);
  }
}

function json(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new DbError('INVALID_EVENT', 'a JSON field holds a value JSON cannot represent');
  return text;
}
