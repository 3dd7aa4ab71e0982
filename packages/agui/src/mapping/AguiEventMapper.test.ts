import type { BaseEvent } from '@ag-ui/client';
import { EventType, enforceEvents, verifyEvents } from '@ag-ui/client';
import type { RunEvent } from '@toolrun/dispatcher';
import { from } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { AguiEventMapper } from './AguiEventMapper.ts';

const runId = 'run-1';
let seq = 0;
function ev<T extends RunEvent['type']>(type: T, fields: Record<string, unknown>): RunEvent {
  seq += 1;
  return {
    id: `${runId}:${seq}`,
    seq,
    runId,
    userId: 'alice',
    threadId: 'thread-1',
    at: new Date(1_700_000_000_000 + seq).toISOString(),
    type,
    ...fields,
  } as RunEvent;
}

/** A run with two interleaved parallel calls, a failure, a thought between them, and a client tool. */
function parallelRun(status: 'completed' | 'cancelled' | 'failed' | 'interrupted' = 'completed'): RunEvent[] {
  seq = 0;
  return [
    ev('agent_started', { agent: 'parallel', input: {} }),
    ev('agent_thinking', { text: 'two calls at once', step: 1 }),
    ev('tool_executing', { callId: 'a', tool: 'search', input: { query: 'x' } }),
    ev('tool_executing', { callId: 'b', tool: 'calculator', input: { expression: '1/0' } }),
    ev('agent_thinking', { text: 'waiting', step: 2 }),
    ev('tool_completed', {
      callId: 'b',
      tool: 'calculator',
      status: 'error',
      error: { code: 'TOOL_FAILED', message: 'division by zero' },
      durationMs: 1,
    }),
    ev('tool_executing', { callId: 'c', tool: 'client:confirm', input: { ok: true } }),
    ev('tool_completed', {
      callId: 'c',
      tool: 'client:confirm',
      status: 'cancelled',
      error: { code: 'CLIENT_TOOL', message: 'handed to the client' },
      durationMs: 0,
    }),
    ev('tool_completed', { callId: 'a', tool: 'search', status: 'success', output: { hits: 1 }, durationMs: 2 }),
    status === 'completed'
      ? ev('agent_completed', { status, result: { answer: 42 }, durationMs: 5, toolCalls: 3 })
      : ev('agent_completed', { status, error: { code: 'X', message: 'stopped' }, durationMs: 5, toolCalls: 3 }),
  ];
}

function verified(events: BaseEvent[]): Promise<BaseEvent[]> {
  return new Promise((resolve, reject) => {
    const out: BaseEvent[] = [];
    verifyEvents(false)(from(events)).subscribe({
      next: (e) => out.push(e),
      error: reject,
      complete: () => resolve(out),
    });
  });
}

function enforced(events: BaseEvent[]): Promise<BaseEvent[]> {
  return new Promise((resolve, reject) => {
    const out: BaseEvent[] = [];
    enforceEvents()(from(events)).subscribe({ next: (e) => out.push(e), error: reject, complete: () => resolve(out) });
  });
}

describe('AguiEventMapper', () => {
  it('maps interleaved parallel calls, failures and a client tool into a sequence verifyEvents accepts', async () => {
    const mapper = new AguiEventMapper();
    const events = parallelRun().flatMap((event) => mapper.map(event));
    await expect(verified(events)).resolves.toHaveLength(events.length);
    // The client's own enforcement (unknown events dropped, unknown fields stripped, each with a
    // warning) leaves every event as it is, and says nothing.
    const warn = vi.spyOn(console, 'warn');
    try {
      await expect(enforced(events)).resolves.toEqual(events);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    const results = events.filter((e) => e.type === EventType.TOOL_CALL_RESULT);
    expect(results.map((e) => e.toolCallId)).toEqual(['b', 'a']);
    expect(JSON.parse(String(results[0]?.content))).toEqual({
      status: 'error',
      error: { code: 'TOOL_FAILED', message: 'division by zero' },
    });
    const finished = events.at(-1);
    expect(finished).toMatchObject({
      type: EventType.RUN_FINISHED,
      result: { answer: 42 },
      outcome: { type: 'success', pendingToolCallIds: ['c'] },
    });
    const clientCall = events.find((e) => e.type === EventType.TOOL_CALL_START && e.toolCallId === 'c');
    expect(clientCall).toMatchObject({ toolCallName: 'confirm' });
    for (const event of events) {
      expect(Number.isInteger(event.timestamp)).toBe(true);
      expect(event.metadata).toMatchObject({ toolrun: { runId } });
    }
  });

  it('ends a cancelled run with outcome cancelled, a failed or interrupted one with RUN_ERROR', async () => {
    for (const status of ['cancelled', 'failed', 'interrupted'] as const) {
      const mapper = new AguiEventMapper();
      const events = parallelRun(status).flatMap((event) => mapper.map(event));
      await expect(verified(events)).resolves.toHaveLength(events.length);
      const last = events.at(-1);
      if (status === 'cancelled')
        expect(last).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'cancelled' } });
      else expect(last).toMatchObject({ type: EventType.RUN_ERROR, code: 'X', message: 'stopped' });
    }
  });

  it('gives, at every point of a run, a prelude after which the rest verifies and nothing is doubled', async () => {
    const run = parallelRun();
    const full = new AguiEventMapper();
    const whole = run.map((event) => full.map(event));
    for (let k = 1; k < run.length; k += 1) {
      const mapper = new AguiEventMapper();
      for (const event of run.slice(0, k)) mapper.map(event);
      const prelude = mapper.prelude();
      const rest = run.slice(k).flatMap((event) => mapper.map(event));
      expect(rest).toEqual(whole.slice(k).flat());
      await expect(verified([...prelude, ...rest])).resolves.toHaveLength(prelude.length + rest.length);
      expect(prelude[0]?.type).toBe(EventType.RUN_STARTED);
      // The calls still waiting for a result at k, opened again: 'a' and 'b' after both started, …
      const reopened = prelude.filter((e) => e.type === EventType.TOOL_CALL_START).map((e) => e.toolCallId);
      const open = run
        .slice(0, k)
        .filter((e) => e.type === 'tool_executing')
        .map((e) => (e.type === 'tool_executing' ? e.callId : ''))
        .filter((id) => !run.slice(0, k).some((e) => e.type === 'tool_completed' && e.callId === id && id !== 'c'));
      expect(reopened).toEqual(open);
    }
  });
});
