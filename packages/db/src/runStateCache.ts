import type Database from 'better-sqlite3';
import type { RunRecordStatus } from './schema.ts';

/** What the event writer needs to know about a run to accept its next events. */
export interface RunState {
  userId: string;
  threadId: string;
  status: RunRecordStatus;
  lastSeq: number;
  toolCalls: number;
  /** Open tool calls: callId → tool. */
  open: Map<string, string>;
  /** callIds already completed (a callId is used once per run). */
  closed: Set<string>;
}

/** Active runs' state, loaded from the tables on a miss. */
export interface RunStateCache {
  /** The run's committed (or, inside a transaction, written) state; undefined when the run has no row. */
  get(runId: string): RunState | undefined;
  /** Stores the state after a write; finished runs are dropped (their rows answer later lookups). */
  set(runId: string, state: RunState): void;
  /** Forgets one run (its state is no longer this process's to know: fenced, or adopted). */
  delete(runId: string): void;
  clear(): void;
}

/** The row fields a {@link RunState} is built from. */
export interface RunStateRow {
  userId: string;
  threadId: string;
  status: RunRecordStatus;
  lastSeq: number;
  toolCalls: number;
}

/** Builds a run's state from its row and its tool-call rows. */
export function toRunState(
  row: RunStateRow,
  calls: readonly { callId: string; tool: string; status: string }[],
): RunState {
  const state: RunState = { ...row, open: new Map(), closed: new Set() };
  if (row.status === 'running') {
    for (const call of calls) {
      if (call.status === 'running') state.open.set(call.callId, call.tool);
      else state.closed.add(call.callId);
    }
  }
  return state;
}

/**
 * A bounded cache of run state, so the hot path needs no lookup per write. The tables stay the
 * truth: a miss (an evicted, finished or never-seen run) asks `load`, and after a rolled-back
 * transaction the whole cache is dropped.
 */
export function createRunStateCache(load: (runId: string) => RunState | undefined, maxRuns = 10_000): RunStateCache {
  const states = new Map<string, RunState>();
  return {
    get(runId) {
      return states.get(runId) ?? load(runId);
    },
    set(runId, state) {
      states.delete(runId);
      if (state.status !== 'running') return;
      states.set(runId, state);
      if (states.size > maxRuns) {
        // Map iteration order is insertion order: the least recently written run goes first.
        const oldest = states.keys().next();
        if (oldest.done !== true) states.delete(oldest.value);
      }
    },
    delete(runId) {
      states.delete(runId);
    },
    clear() {
      states.clear();
    },
  };
}

/** The SQLite loader of {@link createRunStateCache}: reads the run's rows on this connection. Assumes it is the file's only writer. */
export function sqliteRunStateLoader(sqlite: Database.Database): (runId: string) => RunState | undefined {
  const selectRun = sqlite.prepare<[string], RunStateRow>(
    'SELECT user_id AS userId, thread_id AS threadId, status, last_seq AS lastSeq, tool_calls AS toolCalls FROM runs WHERE id = ?',
  );
  const selectCalls = sqlite.prepare<[string], { callId: string; tool: string; status: string }>(
    'SELECT call_id AS callId, tool, status FROM tool_calls WHERE run_id = ?',
  );
  return (runId) => {
    const row = selectRun.get(runId);
    if (row === undefined) return undefined;
    return toRunState(row, row.status === 'running' ? selectCalls.all(runId) : []);
  };
}
