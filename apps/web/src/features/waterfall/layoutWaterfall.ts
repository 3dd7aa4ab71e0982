import type { RunEvent, RunEventOf } from '../../lib/types.ts';

/** One tool call as a bar on the run's time axis. */
export interface WaterfallBar {
  readonly callId: string;
  readonly tool: string;
  /** 0 for the run's own calls, 1 for a sub-agent's, and so on. */
  readonly depth: number;
  readonly parentCallId: string | undefined;
  /** Milliseconds from `agent_started`. */
  readonly startMs: number;
  /** Milliseconds from `agent_started`; `undefined` while the call is open. */
  readonly endMs: number | undefined;
  /** `executing` while open, else the call's status. */
  readonly status: string;
  readonly input: RunEventOf<'tool_executing'>['input'];
  readonly output: RunEventOf<'tool_completed'>['output'];
  readonly error: RunEventOf<'tool_completed'>['error'];
}

/** The run's calls in start order, each under its parent, with the axis they share. */
export interface Waterfall {
  readonly bars: readonly WaterfallBar[];
  /** The axis' length in milliseconds: to `agent_completed`, or to the latest event while running. */
  readonly totalMs: number;
}

/**
 * Lays a run's calls out as a waterfall: a bar per call from its `tool_executing` to its
 * `tool_completed`, sub-agents' calls right under their `agent:` call (from `parentCallId`), parallel
 * calls side by side on the shared axis. Reads only the five events, so it works for a stored run and
 * a live one alike.
 */
export function layoutWaterfall(events: readonly RunEvent[]): Waterfall {
  const first = events[0];
  if (first === undefined) return { bars: [], totalMs: 0 };
  const origin = Date.parse(first.at);
  const offset = (at: string) => Math.max(0, Date.parse(at) - origin);
  const completed = new Map<string, RunEventOf<'tool_completed'>>();
  for (const event of events) if (event.type === 'tool_completed') completed.set(event.callId, event);
  const children = new Map<string | undefined, RunEventOf<'tool_executing'>[]>();
  for (const event of events) {
    if (event.type !== 'tool_executing') continue;
    const siblings = children.get(event.parentCallId) ?? [];
    siblings.push(event);
    children.set(event.parentCallId, siblings);
  }
  const bars: WaterfallBar[] = [];
  // Depth-first from the run's own calls: each call is followed by the calls it made.
  const visit = (parent: string | undefined, depth: number) => {
    for (const call of children.get(parent) ?? []) {
      const done = completed.get(call.callId);
      bars.push({
        callId: call.callId,
        tool: call.tool,
        depth,
        parentCallId: call.parentCallId,
        startMs: offset(call.at),
        endMs: done === undefined ? undefined : offset(done.at),
        status: done?.status ?? 'executing',
        input: call.input,
        output: done?.output,
        error: done?.error,
      });
      if (depth < 32) visit(call.callId, depth + 1);
    }
  };
  visit(undefined, 0);
  const last = events.at(-1);
  return { bars, totalMs: last === undefined ? 0 : offset(last.at) };
}
