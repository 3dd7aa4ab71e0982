import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { RunEvent } from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { createRunTracer } from './createRunTracer.ts';
import { DerivedSpanIds } from './runTraceIds.ts';

function setup() {
  const exporter = new InMemorySpanExporter();
  const ids = new DerivedSpanIds();
  const provider = new BasicTracerProvider({ idGenerator: ids, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = createRunTracer({ tracer: provider.getTracer('test'), ids });
  return { tracer, spans: () => exporter.getFinishedSpans(), other: provider.getTracer('other') };
}

function run(runId: string): RunEvent[] {
  const env = (seq: number, ms: number) => ({
    id: `${runId}:${seq}`,
    seq,
    runId,
    userId: 'alice',
    threadId: 't',
    at: new Date(Date.UTC(2026, 11, 3, 12, 0, 0, ms)).toISOString(),
  });
  return [
    { ...env(1, 0), type: 'agent_started', agent: 'delegate', input: {} },
    { ...env(2, 1), type: 'tool_executing', callId: 'c1', tool: 'agent:research', input: {} },
    { ...env(3, 2), type: 'tool_executing', callId: 'c2', tool: 'mcp__whoami', input: {}, parentCallId: 'c1' },
    {
      ...env(4, 5),
      type: 'tool_completed',
      callId: 'c2',
      tool: 'mcp__whoami',
      status: 'success',
      output: {},
      durationMs: 3,
    },
    {
      ...env(5, 6),
      type: 'tool_completed',
      callId: 'c1',
      tool: 'agent:research',
      status: 'success',
      output: {},
      durationMs: 5,
    },
    { ...env(6, 9), type: 'agent_completed', status: 'completed', result: {}, durationMs: 9, toolCalls: 2 },
  ];
}

const parse = (traceparent: string) => {
  const [version, traceId, spanId, flags] = traceparent.split('-');
  return { version, traceId, spanId, flags };
};

describe('traceContextOf with derived span ids', () => {
  it("names, while the call runs, the very span the call gets when the run's trace is built", () => {
    const { tracer, spans } = setup();
    const events = run('run_a');
    tracer.observe(events.slice(0, 3));
    // The MCP call of c2 is under way: this is what goes out with it.
    const during = tracer.traceContextOf({ runId: 'run_a', callId: 'c2' });
    tracer.observe(events.slice(3));
    const call = spans().find((s) => s.name === 'execute_tool mcp__whoami');
    const root = spans().find((s) => s.name === 'invoke_agent delegate');
    expect(during?.tracestate).toBeUndefined();
    expect(parse(during?.traceparent ?? '')).toEqual({
      version: '00',
      traceId: root?.spanContext().traceId,
      spanId: call?.spanContext().spanId,
      flags: '01',
    });
    // The sub-agent's span is the call's parent, and the root the sub-agent's.
    const sub = spans().find((s) => s.name === 'invoke_agent research');
    expect(call?.parentSpanContext?.spanId).toBe(sub?.spanContext().spanId);
    expect(sub?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
  });

  it("follows the request's parent: its trace id, its sampling flag and its tracestate", () => {
    const { tracer, spans } = setup();
    const parentTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    tracer.setParent('run_b', { traceparent: `00-${parentTrace}-00f067aa0ba902b7-01`, tracestate: 'vendor=abc' });
    const events = run('run_b');
    tracer.observe(events.slice(0, 3));
    const during = tracer.traceContextOf({ runId: 'run_b', callId: 'c2' });
    tracer.observe(events.slice(3));
    const call = spans().find((s) => s.name === 'execute_tool mcp__whoami');
    expect(during).toEqual({
      traceparent: `00-${parentTrace}-${call?.spanContext().spanId}-01`,
      tracestate: 'vendor=abc',
    });
    expect(call?.spanContext().traceId).toBe(parentTrace);
  });

  it('gives distinct ids to distinct runs and calls, random ones to spans it does not start, and nothing without ids', () => {
    const { tracer, other } = setup();
    const a = parse(tracer.traceContextOf({ runId: 'r1', callId: 'c1' })?.traceparent ?? '');
    const b = parse(tracer.traceContextOf({ runId: 'r2', callId: 'c1' })?.traceparent ?? '');
    const c = parse(tracer.traceContextOf({ runId: 'r1', callId: 'c2' })?.traceparent ?? '');
    expect(a.traceId).not.toBe(b.traceId);
    expect(a.traceId).toBe(c.traceId);
    expect(new Set([a.spanId, b.spanId, c.spanId]).size).toBe(3);
    const x = other.startSpan('x');
    const y = other.startSpan('y');
    expect(x.spanContext().traceId).not.toBe(y.spanContext().traceId);
    const plain = createRunTracer({ tracer: other });
    expect(plain.traceContextOf({ runId: 'r1', callId: 'c1' })).toBeUndefined();
  });
});
