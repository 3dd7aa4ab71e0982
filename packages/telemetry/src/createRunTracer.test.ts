import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { RunEvent } from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { createRunTracer } from './createRunTracer.ts';

function setup(opts: { recordContent?: boolean; maxOpenRuns?: number } = {}) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = createRunTracer({ tracer: provider.getTracer('test'), ...opts });
  return { tracer, spans: () => exporter.getFinishedSpans() };
}

const base = { runId: 'run_1', userId: 'alice', threadId: 'thread_1' };
let seq = 0;
function at(ms: number): string {
  return new Date(Date.UTC(2026, 11, 3, 12, 0, 0, ms)).toISOString();
}
function ev<T extends RunEvent['type']>(type: T, ms: number, body: Record<string, unknown>, runId = 'run_1'): RunEvent {
  seq += 1;
  return { ...base, runId, id: `${runId}:${seq}`, seq, at: at(ms), type, ...body } as RunEvent;
}

// A run of the `delegate` shape: its own tool call, then a sub-agent with two parallel calls.
function delegateRun(): RunEvent[] {
  seq = 0;
  return [
    ev('agent_started', 0, { agent: 'delegate', input: { question: 'q', api_key: '[REDACTED]' } }),
    ev('agent_thinking', 1, { text: 'thinking', step: 1 }),
    ev('tool_executing', 2, { callId: 'c1', tool: 'search', input: { query: 'q' } }),
    ev('tool_completed', 10, { callId: 'c1', tool: 'search', status: 'success', output: { hits: 1 }, durationMs: 8 }),
    ev('tool_executing', 11, { callId: 'c2', tool: 'agent:research', input: { topic: 't' } }),
    ev('tool_executing', 12, { callId: 'c3', tool: 'search', input: { query: 'a' }, parentCallId: 'c2' }),
    ev('tool_executing', 13, { callId: 'c4', tool: 'calculator', input: { expression: '1+' }, parentCallId: 'c2' }),
    ev('tool_completed', 20, {
      callId: 'c4',
      tool: 'calculator',
      status: 'error',
      error: { code: 'INVALID_INPUT', message: 'bad expression' },
      durationMs: 7,
    }),
    ev('tool_completed', 25, { callId: 'c3', tool: 'search', status: 'success', output: {}, durationMs: 13 }),
    ev('tool_completed', 30, { callId: 'c2', tool: 'agent:research', status: 'success', output: {}, durationMs: 19 }),
    ev('agent_completed', 40, { status: 'completed', result: { answer: 42 }, durationMs: 40, toolCalls: 4 }),
  ];
}

describe('createRunTracer', () => {
  it('builds one trace per run: invoke_agent with execute_tool children, sub-agent calls nested, times from the events', () => {
    const { tracer, spans } = setup();
    tracer.observe(delegateRun());
    const all = spans();
    expect(all.map((s) => s.name).sort()).toEqual(
      [
        'invoke_agent delegate',
        'execute_tool search',
        'invoke_agent research',
        'execute_tool search',
        'execute_tool calculator',
      ].sort(),
    );
    const byCall = new Map(all.map((s) => [s.attributes['gen_ai.tool.call.id'], s]));
    const root = all.find((s) => s.name === 'invoke_agent delegate');
    const sub = byCall.get('c2');
    expect(root?.parentSpanContext).toBeUndefined();
    expect(new Set(all.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(byCall.get('c1')?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
    expect(sub?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
    expect(byCall.get('c3')?.parentSpanContext?.spanId).toBe(sub?.spanContext().spanId);
    expect(byCall.get('c4')?.parentSpanContext?.spanId).toBe(sub?.spanContext().spanId);
    expect(root?.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'delegate',
      'toolrun.run.id': 'run_1',
      'toolrun.user.id': 'alice',
      'toolrun.seq.first': 1,
      'toolrun.seq.last': 11,
      'toolrun.status': 'completed',
      'toolrun.tool_calls': 4,
    });
    expect(byCall.get('c4')?.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'calculator',
      'error.type': 'INVALID_INPUT',
      'toolrun.parent_call.id': 'c2',
    });
    expect(byCall.get('c4')?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad expression' });
    // Parallel calls overlap on the time axis: c3 [12, 25] and c4 [13, 20] (ms after the start).
    const ms = (t: [number, number]) => t[0] * 1_000 + t[1] / 1e6 - Date.parse(at(0));
    expect([ms(byCall.get('c3')?.startTime ?? [0, 0]), ms(byCall.get('c3')?.endTime ?? [0, 0])]).toEqual([12, 25]);
    expect([ms(byCall.get('c4')?.startTime ?? [0, 0]), ms(byCall.get('c4')?.endTime ?? [0, 0])]).toEqual([13, 20]);
    expect(tracer.openRuns()).toBe(0);
  });

  it('records no inputs or outputs unless asked, and then only the redacted form the events carry', () => {
    const quiet = setup();
    quiet.tracer.observe(delegateRun());
    const text = JSON.stringify(quiet.spans().map((s) => s.attributes));
    expect(text).not.toContain('hits');
    expect(text).not.toContain('question');

    const loud = setup({ recordContent: true });
    loud.tracer.observe(delegateRun());
    const root = loud.spans().find((s) => s.name === 'invoke_agent delegate');
    expect(root?.attributes['toolrun.run.input']).toBe('{"question":"q","api_key":"[REDACTED]"}');
    const search = loud.spans().find((s) => s.attributes['gen_ai.tool.call.id'] === 'c1');
    expect(search?.attributes['gen_ai.tool.call.result']).toBe('{"hits":1}');
  });

  it('makes a W3C traceparent the parent of the run, and ignores a malformed one', () => {
    const { tracer, spans } = setup();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    tracer.setParent('run_1', { traceparent: `00-${traceId}-b7ad6b7169203331-01` });
    tracer.observe(delegateRun());
    const root = spans().find((s) => s.name === 'invoke_agent delegate');
    expect(root?.spanContext().traceId).toBe(traceId);
    expect(root?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');

    const other = setup();
    other.tracer.setParent('run_1', { traceparent: 'not-a-traceparent' });
    other.tracer.observe(delegateRun());
    expect(other.spans().find((s) => s.name === 'invoke_agent delegate')?.parentSpanContext).toBeUndefined();
  });

  it('marks failed and interrupted runs as errors, skips runs it did not see start, and bounds open runs', () => {
    const { tracer, spans } = setup({ maxOpenRuns: 2 });
    seq = 0;
    tracer.observe([
      ev('agent_started', 0, { agent: 'flaky', input: {} }, 'run_a'),
      ev(
        'agent_completed',
        5,
        { status: 'failed', error: { code: 'AGENT_FAILED', message: 'boom' }, durationMs: 5, toolCalls: 0 },
        'run_a',
      ),
      // Recovery closing a run started before a restart: no start seen, no trace.
      ev(
        'agent_completed',
        6,
        { status: 'interrupted', error: { code: 'INTERRUPTED', message: 'x' }, durationMs: 1, toolCalls: 0 },
        'run_b',
      ),
    ]);
    expect(spans().map((s) => [s.name, s.status.code])).toEqual([['invoke_agent flaky', SpanStatusCode.ERROR]]);
    for (const runId of ['run_c', 'run_d', 'run_e'])
      tracer.observe([ev('agent_started', 0, { agent: 'slow', input: {} }, runId)]);
    expect(tracer.openRuns()).toBe(2);
    expect(tracer.droppedRuns()).toBe(1);
  });
});
