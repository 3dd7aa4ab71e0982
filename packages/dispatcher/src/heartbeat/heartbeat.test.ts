import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AnyTool, defineTool } from '../defineTool.ts';
import { isDispatchError } from '../errors.ts';
import { runEventSchema } from '../events.ts';
import { createDispatcherFactory } from '../factory.ts';
import { createMemorySink } from '../memorySink.ts';
import { createInMemoryMetrics } from '../metrics.ts';
import { noopMetrics } from '../noopMetrics.ts';
import type { LateResult } from '../ports.ts';
import { contextFor, manualClock, sleep, waitFor } from '../testSupport.ts';

function setup(tools: AnyTool[], clock?: ReturnType<typeof manualClock>) {
  const sink = createMemorySink();
  const late: LateResult[] = [];
  const inMemory = createInMemoryMetrics();
  const metrics = { ...inMemory, lateResult: (result: LateResult) => late.push(result) };
  const factory = createDispatcherFactory({ tools, sink, metrics, ...(clock ? { clock } : {}) });
  return { factory, sink, late, metrics: inMemory };
}

describe('tool heartbeats', () => {
  it('completes a silent tool as timeout/STALLED with its last heartbeat details, and records its late result without delivering it', async () => {
    let finish: (() => void) | undefined;
    const stalls = defineTool({
      name: 'stalls',
      description: 'Beats once, then hangs ignoring its signal, then returns',
      input: z.object({}),
      access: 'user',
      heartbeatTimeoutMs: 100,
      run: async (_input, ctx) => {
        ctx.heartbeat({ step: 1, of: 3 });
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        return { done: true };
      },
    });
    const { factory, sink, late } = setup([stalls]);
    const scope = factory.forRequest(contextFor('alice'));
    const result = await scope.execute('stalls', {});
    expect(result.status).toBe('timeout');
    if (result.status === 'success') throw new Error('unreachable');
    expect(result.error.code).toBe('STALLED');
    expect(result.error.message).toContain('"step":1');
    const completed = sink.events().filter((e) => e.type === 'tool_completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ status: 'timeout', error: { code: 'STALLED', details: { step: 1, of: 3 } } });
    // The tool returns after all: recorded (with how the call had ended), never a second completion.
    finish?.();
    await waitFor(() => late.length === 1);
    expect(late[0]).toMatchObject({
      tool: 'stalls',
      outcome: 'success',
      completedAs: { status: 'timeout', code: 'STALLED' },
    });
    await scope[Symbol.asyncDispose]();
    expect(sink.events().filter((e) => e.type === 'tool_completed')).toHaveLength(1);
  });

  it('keeps a tool that heartbeats alive well past its heartbeat timeout', async () => {
    const beats = defineTool({
      name: 'beats',
      description: 'Works for three heartbeat timeouts, beating often',
      input: z.object({}),
      access: 'user',
      heartbeatTimeoutMs: 300,
      // Destructured, as tools like to: heartbeat works unbound.
      run: async (_input, { signal, heartbeat }) => {
        const started = performance.now();
        let n = 0;
        while (performance.now() - started < 900) {
          await sleep(10, signal);
          n += 1;
          heartbeat({ n });
        }
        return { beats: n };
      },
    });
    const { factory } = setup([beats]);
    await using scope = factory.forRequest(contextFor('alice'));
    const result = await scope.execute('beats', {});
    expect(result.status).toBe('success');
  });

  it('still caps a heartbeating tool with its overall timeout', async () => {
    const forever = defineTool({
      name: 'forever',
      description: 'Beats forever',
      input: z.object({}),
      access: 'user',
      timeoutMs: 200,
      heartbeatTimeoutMs: 1_000,
      run: async (_input, ctx) => {
        for (;;) {
          await sleep(10, ctx.signal);
          ctx.heartbeat();
        }
      },
    });
    const { factory } = setup([forever]);
    await using scope = factory.forRequest(contextFor('alice'));
    const result = await scope.execute('forever', {});
    expect(result).toMatchObject({ status: 'timeout', error: { code: 'TOOL_TIMEOUT' } });
  });

  it('shows a message as progress at most once per second per call, between the call’s two events', async () => {
    const clock = manualClock();
    const reports = defineTool({
      name: 'reports',
      description: 'Reports progress as the clock moves',
      input: z.object({}),
      access: 'user',
      run: async (_input, ctx) => {
        ctx.heartbeat({ message: 'a', fraction: 0.1 });
        clock.advance(500);
        ctx.heartbeat({ message: 'b' });
        clock.advance(500);
        ctx.heartbeat({ message: 'c', fraction: 7 });
        ctx.heartbeat({ note: 'no message: no progress' });
        await sleep(1);
        return 'ok';
      },
    });
    const { factory, sink } = setup([reports], clock);
    const scope = factory.forRequest(contextFor('alice'));
    const result = await scope.execute('reports', {});
    await scope[Symbol.asyncDispose]();
    const events = sink.events();
    for (const event of events) runEventSchema.parse(event);
    expect(events.map((e) => e.type)).toEqual([
      'agent_started',
      'tool_executing',
      'agent_thinking',
      'agent_thinking',
      'tool_completed',
      'agent_completed',
    ]);
    const progress = events.flatMap((e) => (e.type === 'agent_thinking' ? [e.progress] : []));
    expect(progress).toEqual([
      { callId: result.callId, message: 'a', fraction: 0.1 },
      // A fraction outside 0..1 is left out rather than shown wrong.
      { callId: result.callId, message: 'c' },
    ]);
  });

  it('ignores heartbeats after the call ended: nothing follows its tool_completed', async () => {
    let keep: ((details?: { message: string }) => void) | undefined;
    const quick = defineTool({
      name: 'quick',
      description: 'Returns at once, keeping its heartbeat',
      input: z.object({}),
      access: 'user',
      heartbeatTimeoutMs: 50,
      run: (_input, ctx) => {
        keep = (details) => ctx.heartbeat(details);
        return 1;
      },
    });
    const { factory, sink } = setup([quick]);
    await using scope = factory.forRequest(contextFor('alice'));
    await scope.execute('quick', {});
    keep?.({ message: 'too late' });
    await sleep(120);
    expect(sink.events().map((e) => e.type)).toEqual(['agent_started', 'tool_executing', 'tool_completed']);
  });

  it('gives each call a stable idempotency key of its own, derived from the run and the call', async () => {
    const keys: string[] = [];
    const keyed = defineTool({
      name: 'keyed',
      description: 'Reads its key twice',
      input: z.object({}),
      access: 'user',
      run: (_input, ctx) => {
        keys.push(ctx.idempotencyKey, ctx.idempotencyKey);
        return ctx.callId;
      },
    });
    const { factory } = setup([keyed]);
    const context = contextFor('alice');
    await using scope = factory.forRequest(context);
    const first = await scope.execute('keyed', {});
    const second = await scope.execute('keyed', {});
    expect(keys).toEqual([
      `${context.runId}:${first.callId}`,
      `${context.runId}:${first.callId}`,
      `${context.runId}:${second.callId}`,
      `${context.runId}:${second.callId}`,
    ]);
  });

  it('refuses a malformed heartbeatTimeoutMs when the registry is built', () => {
    const bad = { ...defineTool({ name: 'bad', description: 'x', input: z.object({}), access: 'user', run: () => 1 }) };
    for (const heartbeatTimeoutMs of [0, -1, Number.NaN, 3e9]) {
      try {
        createDispatcherFactory({
          tools: [{ ...bad, heartbeatTimeoutMs } as AnyTool],
          sink: createMemorySink(),
          metrics: noopMetrics,
        });
        throw new Error('accepted');
      } catch (error) {
        expect(isDispatchError(error, 'INVALID_REGISTRY')).toBe(true);
      }
    }
  });
});
