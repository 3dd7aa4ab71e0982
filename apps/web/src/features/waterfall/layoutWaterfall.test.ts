import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../lib/types.ts';
import { layoutWaterfall } from './layoutWaterfall.ts';

let seq = 0;
function ev(type: RunEvent['type'], ms: number, body: Record<string, unknown>): RunEvent {
  seq += 1;
  const at = new Date(Date.UTC(2026, 11, 3, 12, 0, 0, ms)).toISOString();
  return { id: `r:${seq}`, seq, runId: 'r', userId: 'alice', threadId: 't', at, type, ...body } as RunEvent;
}

describe('layoutWaterfall', () => {
  it('puts each call on the run’s time axis, nests sub-agent calls under their agent: call, and keeps parallel calls side by side', () => {
    seq = 0;
    const { bars, totalMs } = layoutWaterfall([
      ev('agent_started', 0, { agent: 'delegate', input: {} }),
      ev('tool_executing', 5, { callId: 'a', tool: 'agent:research', input: {} }),
      ev('tool_executing', 6, { callId: 'b', tool: 'search', input: { q: 1 }, parentCallId: 'a' }),
      ev('tool_executing', 7, { callId: 'c', tool: 'search', input: { q: 2 }, parentCallId: 'a' }),
      ev('tool_executing', 8, { callId: 'd', tool: 'calculator', input: {} }),
      ev('tool_completed', 20, { callId: 'c', tool: 'search', status: 'success', output: { n: 2 }, durationMs: 13 }),
      ev('tool_completed', 21, {
        callId: 'b',
        tool: 'search',
        status: 'error',
        error: { code: 'TOOL_FAILED', message: 'x' },
        durationMs: 15,
      }),
      ev('tool_completed', 30, { callId: 'a', tool: 'agent:research', status: 'success', output: {}, durationMs: 25 }),
      ev('agent_completed', 40, { status: 'completed', result: {}, durationMs: 40, toolCalls: 3 }),
    ]);
    expect(totalMs).toBe(40);
    expect(bars.map((b) => [b.callId, b.depth, b.startMs, b.endMs, b.status])).toEqual([
      ['a', 0, 5, 30, 'success'],
      ['b', 1, 6, 21, 'error'],
      ['c', 1, 7, 20, 'success'],
      ['d', 0, 8, undefined, 'executing'],
    ]);
    expect(bars[1]?.error?.code).toBe('TOOL_FAILED');
    expect(bars[2]?.output).toEqual({ n: 2 });
  });

  it('is empty before the first event', () => {
    expect(layoutWaterfall([])).toEqual({ bars: [], totalMs: 0 });
  });
});
