import { describe, expect, it } from 'vitest';
import { ActiveRun, type RunHost } from './ActiveRun.ts';
import type { RunEvent, RunEventBody } from './events.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import { DEFAULT_LIMITS } from './limits/limits.ts';
import { RunDeadlines } from './limits/RunDeadlines.ts';
import { createMemorySink } from './memorySink.ts';
import { createInMemoryMetrics } from './metrics.ts';
import { RunStateMachine } from './RunStateMachine.ts';
import { systemClock } from './systemClock.ts';
import { contextFor, shape } from './testSupport.ts';

const started: RunEventBody = { type: 'agent_started', agent: 'a', input: null };
const executing = (callId: string): RunEventBody => ({ type: 'tool_executing', callId, tool: 't', input: null });
const completed = (callId: string): RunEventBody => ({
  type: 'tool_completed',
  callId,
  tool: 't',
  status: 'success',
  output: null,
  durationMs: 1,
});
const finished: RunEventBody = {
  type: 'agent_completed',
  status: 'completed',
  result: null,
  durationMs: 1,
  toolCalls: 0,
};

describe('RunStateMachine', () => {
  it('accepts a run that keeps every rule, with parallel calls', () => {
    const machine = new RunStateMachine();
    for (const body of [started, executing('1'), executing('2'), completed('2'), completed('1'), finished]) {
      expect(machine.accept(body)).toBeUndefined();
    }
    expect(machine.phase).toBe('closed');
  });

  it.each([
    ['first_event_is_agent_started', [executing('1')]],
    ['one_agent_started', [started, started]],
    ['nothing_after_agent_completed', [started, finished, { type: 'agent_thinking', text: 'late', step: 1 }]],
    ['call_id_unique', [started, executing('1'), completed('1'), executing('1')]],
    ['tool_completed_follows_tool_executing', [started, completed('9')]],
    ['tool_completed_follows_tool_executing', [started, executing('1'), completed('1'), completed('1')]],
    ['calls_closed_before_agent_completed', [started, executing('1'), finished]],
  ] as const)('refuses an event that breaks %s and leaves the state as it was', (rule, bodies) => {
    const machine = new RunStateMachine();
    const results = bodies.map((body) => machine.accept(body));
    expect(results.slice(0, -1)).toEqual(results.slice(0, -1).map(() => undefined));
    expect(results.at(-1)?.rule).toBe(rule);
    if (rule === 'calls_closed_before_agent_completed') {
      expect(machine.phase).toBe('running');
      expect(machine.openCalls()).toEqual([{ callId: '1', tool: 't' }]);
    }
  });
});

describe('findOrderingViolations', () => {
  const stamp = (bodies: RunEventBody[], runId = 'run-1'): RunEvent[] =>
    bodies.map(
      (body, i) =>
        ({
          id: `${runId}:${i + 1}`,
          seq: i + 1,
          runId,
          userId: 'alice',
          threadId: 't',
          at: '2026-01-01T00:00:00.000Z',
          ...body,
        }) as RunEvent,
    );

  it('finds gaps in seq, ids that do not match, events of another run, and an unfinished run', () => {
    const events = stamp([started, executing('1'), completed('1')]);
    const gap = [events[0], { ...events[2], seq: 3 }] as RunEvent[];
    expect(findOrderingViolations(gap).map((v) => v.rule)).toContain('seq_without_gaps');
    const badId = [events[0], { ...events[1], id: 'run-1:7' }] as RunEvent[];
    expect(findOrderingViolations(badId).map((v) => v.rule)).toEqual(['id_matches_seq']);
    const mixed = [events[0], { ...events[1], userId: 'mallory' }] as RunEvent[];
    expect(findOrderingViolations(mixed).map((v) => v.rule)).toEqual(['same_run_and_user']);
    expect(findOrderingViolations(events)).toEqual([]);
    expect(findOrderingViolations(events, { finished: true }).map((v) => v.rule)).toEqual(['run_finished']);
  });
});

describe('a run failing closed', () => {
  function directRun() {
    const sink = createMemorySink();
    const metrics = createInMemoryMetrics();
    const violations: string[] = [];
    const host: RunHost = {
      sink,
      clock: systemClock,
      metrics,
      limits: { runDeadlineMs: 60_000, redaction: DEFAULT_LIMITS.redaction },
      deadlines: new RunDeadlines(),
      runViolated: (_run, v) => violations.push(v.rule),
      runClosed: () => {},
      runSettled: () => {},
    };
    const run = new ActiveRun(host, contextFor(), 'x', 'direct');
    run.start(null);
    return { run, sink, metrics, violations };
  }

  // The dispatcher never emits a bad event itself, so these drive a run's channel directly.
  it('refuses an event that breaks the rules, counts it, and fails the run closed', async () => {
    const { run, sink, metrics, violations } = directRun();
    run.emit(executing('open-1'));
    expect(run.emit(completed('never-started'))).toBeUndefined();
    const last = await run.done;
    expect(violations).toEqual(['tool_completed_follows_tool_executing']);
    expect(metrics.snapshot().contractViolations).toBe(1);
    expect(last).toMatchObject({ status: 'failed', error: { code: 'CONTRACT_VIOLATION' } });
    const events = sink.events();
    // The call nobody owned is closed by force before the end: the state machine knew it was open.
    expect(shape(events)).toEqual([
      'agent_started',
      'tool_executing:t',
      'tool_completed:t:cancelled',
      'agent_completed:failed',
    ]);
    expect(events[2]).toMatchObject({ error: { code: 'CONTRACT_VIOLATION' } });
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
  });

  it('refuses and counts events after agent_completed', async () => {
    const { run, metrics } = directRun();
    run.close({ status: 'completed', result: null });
    await run.done;
    run.think('too late');
    expect(metrics.snapshot().contractViolations).toBe(1);
    expect(metrics.snapshot().eventsByType.agent_thinking).toBe(0);
  });
});
