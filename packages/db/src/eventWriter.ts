import type { RunEvent } from '@toolrun/dispatcher';
import { DbError } from './errors.ts';
import type { RunState, RunStateCache } from './runStateCache.ts';
import type { SqlValue, WriteBatch } from './writeBatch.js';

/**
 * A run's state as the batch would leave it. `open` and `closedNow` may be shared with the state it
 * was copied from until this draft changes them (`ownsOpen`, `ownsClosedNow`): most events touch
 * neither, and copying them per event cost more than the rest of the check. `closed` is shared with
 * the cached state (it only grows, and only at commit); the batch's completed callIds are in
 * `closedNow` until then. `created` holds the run row's fixed columns when the batch inserts the run.
 */
interface DraftState extends RunState {
  ownsOpen: boolean;
  closedNow: Set<string> | undefined;
  ownsClosedNow: boolean;
  created: { agent: string; input: string; startedAt: number } | undefined;
  /** `status, result, error, finished_at, duration_ms` once the batch holds the run's agent_completed. */
  finish: SqlValue[] | undefined;
}

/** The rows a batch writes as it accumulates (the run rows are derived at `build`). */
interface Rows {
  events: SqlValue[];
  callStarts: SqlValue[];
  callEnds: SqlValue[];
}

/**
 * One group commit being assembled: `add` checks a write against the runs' state as the previous
 * writes of the batch leave it, and keeps it only when all of it passes; `build` gives the rows to
 * write; once they are committed, `committed` hands the new run states to the cache.
 */
export interface BatchDraft {
  /** Throws {@link DbError} `OUT_OF_ORDER`, `INVALID_EVENT` or `RUN_FINISHED` for a write that must be refused; then nothing of it is kept. */
  add(events: readonly RunEvent[]): void;
  /** Events accepted so far. */
  readonly size: number;
  /** The length of the JSON text in the accepted writes' rows (event data, tool inputs and outputs, results). */
  readonly bytes: number;
  /**
   * The rows to write, one transaction's worth; the run row updates are computed once per run here.
   * Call once: the draft lets go of the rows (only `committed` is left to call).
   */
  build(): WriteBatch;
  /**
   * Call after the batch's transaction has committed (not after a rollback: call `reset()` then). Call once.
   * `fenced`: runs whose rows the transaction left out (their lease was lost); they are forgotten.
   */
  committed(fenced?: ReadonlySet<string>): void;
}

/**
 * Validates writes and derives the run / tool-call rows from them, without touching the database,
 * so that one bad write never costs the other writes of its group commit anything and the rows
 * can be written by any connection (this thread's or the writer thread's). Drafts are used one at a
 * time: the next `begin()` follows the previous draft's commit (or `reset()`).
 */
export interface EventWriter {
  begin(): BatchDraft;
  /** Forgets cached run state; call after a rolled-back transaction. */
  reset(): void;
}

/**
 * The hot path of the persistent sink: a cache of active runs' state, so a typical write is
 * validated without a lookup and costs its event rows plus one run-row update per run per batch.
 */
export function createEventWriter(cache: RunStateCache): EventWriter {
  return {
    begin: () => createDraft(cache),
    reset() {
      cache.clear();
    },
  };
}

function createDraft(cache: RunStateCache): BatchDraft {
  // Both are let go once used (build, committed): a stack trace captured in a check (a refused
  // write's DbError) keeps these closures' context alive as long as the error lives.
  let after = new Map<string, DraftState>();
  let rows: Rows = { events: [], callStarts: [], callEnds: [] };
  let size = 0;
  let bytes = 0;

  /** The run's state before this event: this write's draft, the batch's (copied), else the cache's (copied). */
  const stateOf = (runId: string, local: Map<string, DraftState>): DraftState | undefined => {
    const mine = local.get(runId);
    if (mine !== undefined) return mine;
    const inBatch = after.get(runId);
    const from = inBatch ?? cache.get(runId);
    if (from === undefined) return undefined;
    // Every field spelled out, in one order: drafts keep one shape (a spread would not, and costs more).
    const copied: DraftState = {
      userId: from.userId,
      threadId: from.threadId,
      status: from.status,
      lastSeq: from.lastSeq,
      toolCalls: from.toolCalls,
      open: from.open,
      closed: from.closed,
      ownsOpen: false,
      closedNow: inBatch?.closedNow,
      ownsClosedNow: false,
      created: inBatch?.created,
      finish: inBatch?.finish,
    };
    local.set(runId, copied);
    return copied;
  };
  const openOf = (state: DraftState): Map<string, string> => {
    if (!state.ownsOpen) {
      state.open = new Map(state.open);
      state.ownsOpen = true;
    }
    return state.open;
  };
  const closedNowOf = (state: DraftState): Set<string> => {
    if (!state.ownsClosedNow || state.closedNow === undefined) {
      state.closedNow = new Set(state.closedNow);
      state.ownsClosedNow = true;
    }
    return state.closedNow;
  };

  const counted = (text: string): string => {
    bytes += text.length;
    return text;
  };

  const checkOne = (event: RunEvent, local: Map<string, DraftState>): void => {
    const at = checkEnvelope(event);
    const { runId, seq } = event;
    const state = stateOf(runId, local);
    const data = json(event);
    bytes += data.length;
    if (state === undefined) {
      if (seq !== 1) throw new DbError('OUT_OF_ORDER', `${event.id}: run ${runId} has no events yet; expected seq 1`);
      if (event.type !== 'agent_started') {
        throw new DbError('INVALID_EVENT', `${event.id}: a run's first event must be agent_started, got ${event.type}`);
      }
      const { userId, threadId } = event;
      rows.events.push(runId, seq, userId, event.type, at, data);
      local.set(runId, {
        userId,
        threadId,
        status: 'running',
        lastSeq: 1,
        toolCalls: 0,
        open: new Map(),
        closed: new Set(),
        ownsOpen: true,
        closedNow: undefined,
        ownsClosedNow: false,
        created: { agent: event.agent, input: counted(json(event.input)), startedAt: at },
        finish: undefined,
      });
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
    switch (event.type) {
      case 'agent_started':
        throw new DbError('INVALID_EVENT', `${event.id}: agent_started is only valid as seq 1`);
      case 'agent_thinking':
        rows.events.push(runId, seq, event.userId, event.type, at, data);
        return;
      case 'tool_executing':
        if (state.open.has(event.callId) || state.closed.has(event.callId) || state.closedNow?.has(event.callId)) {
          throw new DbError('INVALID_EVENT', `${event.id}: duplicate callId ${event.callId}`);
        }
        openOf(state).set(event.callId, event.tool);
        state.toolCalls += 1;
        rows.events.push(runId, seq, event.userId, event.type, at, data);
        rows.callStarts.push(runId, event.callId, event.tool, counted(json(event.input)), at, seq);
        return;
      case 'tool_completed': {
        if (state.open.get(event.callId) !== event.tool) {
          throw new DbError(
            'INVALID_EVENT',
            `${event.id}: tool_completed without an open tool_executing ${event.callId}`,
          );
        }
        openOf(state).delete(event.callId);
        closedNowOf(state).add(event.callId);
        const output = event.output === undefined ? null : counted(json(event.output));
        const error = event.error === undefined ? null : counted(json(event.error));
        rows.events.push(runId, seq, event.userId, event.type, at, data);
        rows.callEnds.push(event.status, output, error, at, event.durationMs, seq, runId, event.callId);
        return;
      }
      case 'agent_completed': {
        if (state.open.size > 0) {
          throw new DbError('INVALID_EVENT', `${event.id}: run ends with ${state.open.size} open tool call(s)`);
        }
        state.status = event.status;
        const result = event.result === undefined ? null : counted(json(event.result));
        const error = event.error === undefined ? null : counted(json(event.error));
        rows.events.push(runId, seq, event.userId, event.type, at, data);
        state.finish = [event.status, result, error, at, event.durationMs];
        return;
      }
      default: {
        const never: never = event;
        throw new DbError('INVALID_EVENT', `unknown event type ${String((never as { type?: unknown }).type)}`);
      }
    }
  };

  return {
    add(events) {
      const local = new Map<string, DraftState>();
      const marks = [rows.events.length, rows.callStarts.length, rows.callEnds.length] as const;
      const bytesBefore = bytes;
      try {
        for (const event of events) checkOne(event, local);
      } catch (error) {
        // Nothing of a refused write stays in the batch.
        rows.events.length = marks[0];
        rows.callStarts.length = marks[1];
        rows.callEnds.length = marks[2];
        bytes = bytesBefore;
        if (error instanceof DbError) throw error;
        // A malformed event (not an object, a BigInt in a payload) is the write's fault, not the batch's.
        throw new DbError('INVALID_EVENT', error instanceof Error ? error.message : String(error), { cause: error });
      }
      for (const [runId, state] of local) after.set(runId, state);
      size += events.length;
    },
    get size() {
      return size;
    },
    get bytes() {
      return bytes;
    },
    build() {
      const batch: WriteBatch = { ...rows, runs: [], runUpdates: [], runFinishes: [] };
      rows = { events: [], callStarts: [], callEnds: [] };
      for (const [runId, state] of after) {
        const { created, finish } = state;
        if (created !== undefined) {
          batch.runs.push(
            runId,
            state.userId,
            state.threadId,
            created.agent,
            created.input,
            created.startedAt,
            state.lastSeq,
            state.toolCalls,
          );
        }
        if (finish !== undefined) batch.runFinishes.push(...finish, state.lastSeq, state.toolCalls, runId);
        else if (created === undefined) batch.runUpdates.push(state.lastSeq, state.toolCalls, runId);
      }
      return batch;
    },
    committed(fenced) {
      for (const [runId, state] of after) {
        if (fenced?.has(runId) === true) {
          cache.delete(runId);
          continue;
        }
        if (state.closedNow !== undefined) for (const callId of state.closedNow) state.closed.add(callId);
        const { userId, threadId, status, lastSeq, toolCalls, open, closed } = state;
        cache.set(runId, { userId, threadId, status, lastSeq, toolCalls, open, closed });
      }
      after = new Map();
    },
  };
}

/** Checks the envelope's fields; returns `at` in epoch milliseconds. */
function checkEnvelope(event: RunEvent): number {
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
  const ms = typeof at === 'string' ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new DbError('INVALID_EVENT', `${id}: at must be an ISO-8601 time`);
  }
  return ms;
}

function json(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new DbError('INVALID_EVENT', 'a JSON field holds a value JSON cannot represent');
  return text;
}
