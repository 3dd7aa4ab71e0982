import { describe, expect, it } from 'vitest';
import { emptyTimeline, resumeId, type Timeline, timelineReducer } from './timelineReducer.ts';
import type { RunEvent } from './types.ts';

const RUN = 'run_a';

/** A complete run: started, thinking, two parallel tool calls (completed out of order), completed. */
function sampleRun(runId = RUN): RunEvent[] {
  const env = (seq: number) => ({
    id: `${runId}:${seq}`,
    seq,
    runId,
    userId: 'alice',
    threadId: 't1',
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, seq)).toISOString(),
  });
  return [
    { ...env(1), type: 'agent_started', agent: 'research', input: { q: 'x' } },
    { ...env(2), type: 'agent_thinking', text: 'planning', step: 1 },
    { ...env(3), type: 'tool_executing', callId: 'c1', tool: 'search', input: { q: 'x' } },
    { ...env(4), type: 'tool_executing', callId: 'c2', tool: 'fetch', input: { url: 'u' } },
    {
      ...env(5),
      type: 'tool_completed',
      callId: 'c2',
      tool: 'fetch',
      status: 'error',
      error: { code: 'E', message: 'm' },
      durationMs: 3,
    },
    {
      ...env(6),
      type: 'tool_completed',
      callId: 'c1',
      tool: 'search',
      status: 'success',
      output: ['a'],
      durationMs: 7,
    },
    { ...env(7), type: 'agent_completed', status: 'completed', result: 'done', durationMs: 12, toolCalls: 2 },
  ];
}

function apply(state: Timeline, ...batches: RunEvent[][]): Timeline {
  return batches.reduce((s, events) => timelineReducer(s, { type: 'events', events }), state);
}

describe('timelineReducer', () => {
  it('turns each tool call into one row that goes from executing to its completed status', () => {
    const events = sampleRun();
    const midway = apply(emptyTimeline(RUN), events.slice(0, 4));
    expect(midway.rows.map((r) => (r.kind === 'tool' ? `${r.call.callId}:${r.call.status}` : r.kind))).toEqual([
      'agent_started',
      'agent_thinking',
      'c1:executing',
      'c2:executing',
    ]);
    expect(midway.openToolCalls).toBe(2);

    const done = apply(midway, events.slice(4));
    expect(done.rows.map((r) => (r.kind === 'tool' ? `${r.call.callId}:${r.call.status}` : r.kind))).toEqual([
      'agent_started',
      'agent_thinking',
      'c1:success',
      'c2:error',
      'agent_completed',
    ]);
    const c1 = done.rows[2];
    expect(c1?.kind === 'tool' && c1.call.completed?.durationMs).toBe(7);
    expect(done.openToolCalls).toBe(0);
    expect(done.completed?.status).toBe('completed');
  });

  it('drops events already applied, so a resume that overlaps shows nothing twice', () => {
    const events = sampleRun();
    const state = apply(emptyTimeline(RUN), events.slice(0, 5), events.slice(3), events);
    expect(state.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(state.rows).toHaveLength(5);
    expect(state.duplicates).toBe(2 + 7);
  });

  it('holds events that arrive after a gap until the missing ones come, so nothing is shown out of order', () => {
    const events = sampleRun();
    const gapped = apply(emptyTimeline(RUN), events.slice(0, 2), events.slice(4));
    expect(gapped.lastSeq).toBe(2);
    expect(gapped.rows).toHaveLength(2);
    expect([...gapped.pending.keys()].sort()).toEqual([5, 6, 7]);
    expect(resumeId(gapped)).toBe(`${RUN}:2`);

    const filled = apply(gapped, events.slice(2, 4));
    expect(filled.lastSeq).toBe(7);
    expect(filled.pending.size).toBe(0);
    expect(filled.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('ends in the same timeline whatever order and repetition the events arrive in', () => {
    const events = sampleRun();
    const reference = apply(emptyTimeline(RUN), events);
    // A fixed set of scrambles: reversed, interleaved, every event twice.
    const scrambles = [
      [...events].reverse(),
      [6, 0, 4, 2, 5, 1, 3].map((i) => events[i] as RunEvent),
      [...events, ...events],
    ];
    for (const scrambled of scrambles) {
      const state = apply(emptyTimeline(RUN), ...scrambled.map((e) => [e]));
      expect(state.events).toEqual(reference.events);
      expect(state.rows).toEqual(reference.rows);
    }
  });

  it("ignores another run's events", () => {
    const state = apply(emptyTimeline(RUN), sampleRun('run_b'));
    expect(state.events).toHaveLength(0);
    expect(state.foreign).toBe(7);
  });

  it('returns the same object when a message carries nothing, and starts over on reset', () => {
    const state = apply(emptyTimeline(RUN), sampleRun());
    expect(timelineReducer(state, { type: 'events', events: [] })).toBe(state);
    expect(timelineReducer(state, { type: 'reset' })).toEqual(emptyTimeline(RUN));
    expect(resumeId(emptyTimeline(RUN))).toBeUndefined();
  });
});
