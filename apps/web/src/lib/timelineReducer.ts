import type { RunEvent, RunEventOf, ToolCallStatus } from './types.ts';

/** One tool call as one timeline row: `executing` until its `tool_completed` arrives. */
export interface ToolCallRow {
  callId: string;
  tool: string;
  status: 'executing' | ToolCallStatus;
  executing: RunEventOf<'tool_executing'>;
  completed: RunEventOf<'tool_completed'> | undefined;
}

/** What the live timeline and the replay show, in seq order of each row's first event. */
export type TimelineRow =
  | { kind: 'agent_started'; key: string; event: RunEventOf<'agent_started'> }
  | { kind: 'agent_thinking'; key: string; event: RunEventOf<'agent_thinking'> }
  | { kind: 'tool'; key: string; call: ToolCallRow }
  | { kind: 'agent_completed'; key: string; event: RunEventOf<'agent_completed'> };

/** A run's timeline, built only from its events, each applied once and in seq order. */
export interface Timeline {
  runId: string;
  /** Every event with seq 1…lastSeq has been applied; nothing else has. */
  lastSeq: number;
  /** The applied events; `events[i].seq === i + 1`. */
  events: readonly RunEvent[];
  rows: readonly TimelineRow[];
  /** Events that arrived ahead of a gap, held until the missing ones come. */
  pending: ReadonlyMap<number, RunEvent>;
  /** Index in `rows` of each tool call's row. */
  toolRows: ReadonlyMap<string, number>;
  /** Events dropped because they had been applied already (a resume overlap). */
  duplicates: number;
  /** Events dropped because they belong to another run. */
  foreign: number;
  openToolCalls: number;
  completed: RunEventOf<'agent_completed'> | undefined;
}

/** The actions the reducer understands. */
export type TimelineAction = { type: 'events'; events: readonly RunEvent[] } | { type: 'reset' };

/** An empty timeline for `runId`. */
export function emptyTimeline(runId: string): Timeline {
  return {
    runId,
    lastSeq: 0,
    events: [],
    rows: [],
    pending: new Map(),
    toolRows: new Map(),
    duplicates: 0,
    foreign: 0,
    openToolCalls: 0,
    completed: undefined,
  };
}

/** The id to resume a subscription from: the last event applied, or `undefined` before the first. */
export function resumeId(timeline: Timeline): string | undefined {
  return timeline.events[timeline.lastSeq - 1]?.id;
}

/**
 * Merges events into a run's timeline by `seq`: duplicates (seq already applied or already
 * pending) are dropped, events after a gap wait in `pending`, and a `tool_completed` turns its
 * `tool_executing` row from executing into completed instead of adding a row.
 * Returns the same object when nothing changed, so React skips the render.
 *
 * @example
 * const next = timelineReducer(emptyTimeline('r1'), { type: 'events', events });
 */
export function timelineReducer(state: Timeline, action: TimelineAction): Timeline {
  switch (action.type) {
    case 'reset':
      return emptyTimeline(state.runId);
    case 'events':
      return mergeEvents(state, action.events);
    default: {
      const exhaustive: never = action;
      throw new Error(`unknown timeline action ${JSON.stringify(exhaustive)}`);
    }
  }
}

function mergeEvents(state: Timeline, incoming: readonly RunEvent[]): Timeline {
  if (incoming.length === 0) return state;
  let pending: Map<number, RunEvent> | undefined;
  let duplicates = state.duplicates;
  let foreign = state.foreign;
  for (const event of incoming) {
    if (event.runId !== state.runId) {
      foreign++;
      continue;
    }
    if (event.seq <= state.lastSeq || state.pending.has(event.seq) || pending?.has(event.seq)) {
      duplicates++;
      continue;
    }
    pending ??= new Map(state.pending);
    pending.set(event.seq, event);
  }
  if (pending === undefined) {
    return duplicates === state.duplicates && foreign === state.foreign ? state : { ...state, duplicates, foreign };
  }
  const events = [...state.events];
  const rows = [...state.rows];
  let toolRows: Map<string, number> | undefined;
  let { lastSeq, openToolCalls, completed } = state;
  for (let next = pending.get(lastSeq + 1); next !== undefined; next = pending.get(lastSeq + 1)) {
    pending.delete(next.seq);
    lastSeq = next.seq;
    events.push(next);
    switch (next.type) {
      case 'agent_started':
        rows.push({ kind: 'agent_started', key: `e${next.seq}`, event: next });
        break;
      case 'agent_thinking':
        rows.push({ kind: 'agent_thinking', key: `e${next.seq}`, event: next });
        break;
      case 'tool_executing':
        toolRows ??= new Map(state.toolRows);
        toolRows.set(next.callId, rows.length);
        rows.push({
          kind: 'tool',
          key: `c${next.callId}`,
          call: { callId: next.callId, tool: next.tool, status: 'executing', executing: next, completed: undefined },
        });
        openToolCalls++;
        break;
      case 'tool_completed': {
        const index = (toolRows ?? state.toolRows).get(next.callId);
        const row = index === undefined ? undefined : rows[index];
        if (index !== undefined && row?.kind === 'tool') {
          rows[index] = { ...row, call: { ...row.call, status: next.status, completed: next } };
          openToolCalls--;
        }
        break;
      }
      case 'agent_completed':
        rows.push({ kind: 'agent_completed', key: `e${next.seq}`, event: next });
        completed = next;
        break;
      default: {
        const exhaustive: never = next;
        throw new Error(`unknown event ${JSON.stringify(exhaustive)}`);
      }
    }
  }
  return {
    ...state,
    lastSeq,
    events,
    rows,
    pending,
    toolRows: toolRows ?? state.toolRows,
    duplicates,
    foreign,
    openToolCalls,
    completed,
  };
}
