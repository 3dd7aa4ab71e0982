import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from './defineTool.ts';
import { createDispatcherFactory } from './factory.ts';
import { isoTime } from './isoTime.ts';
import { DEFAULT_LIMITS } from './limits/limits.ts';
import { createMemorySink } from './memorySink.ts';
import { createInMemoryMetrics } from './metrics.ts';
import { RunStateMachine } from './RunStateMachine.ts';
import { REDACTED, redact, redactWith } from './redact.ts';

// The fast paths of the hot path (see README, "Performance"): each keeps the slow path's result.
describe('the hot path’s fast paths', () => {
  it('formats a date per millisecond, afresh across a millisecond boundary and going back in time', () => {
    const t = Date.UTC(2026, 0, 1, 23, 59, 59, 999);
    expect(isoTime(t)).toBe('2026-01-01T23:59:59.999Z');
    expect(isoTime(t)).toBe('2026-01-01T23:59:59.999Z');
    expect(isoTime(t + 1)).toBe('2026-01-02T00:00:00.000Z');
    expect(isoTime(t)).toBe('2026-01-01T23:59:59.999Z');
    for (const ms of [0, 1, 1_700_000_000_123, t + 86_400_000]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('still redacts nested secrets, sensitive keys and long strings, and handles primitives without a walk', () => {
    const opts = { ...DEFAULT_LIMITS.redaction, maxStringLength: 5 };
    const sensitive = new Set(['ssn']);
    const value = { user: 'alice', deep: { list: [{ apiKey: 'k', SSN: '1', note: 'abcdefgh' }] } };
    const copy = redactWith(value, opts, sensitive);
    expect(copy).toEqual({
      user: 'alice',
      deep: { list: [{ apiKey: REDACTED, SSN: REDACTED, note: 'abcde…[truncated 3 chars]' }] },
    });
    expect(Object.isFrozen((copy as { deep: object }).deep)).toBe(true);
    // The same key twice (served from the key cache) is redacted the same way.
    expect(redact({ password: 'x', nested: { password: 'y' } })).toEqual({
      password: REDACTED,
      nested: { password: REDACTED },
    });
    expect(redactWith('abcdefgh', opts)).toBe('abcde…[truncated 3 chars]');
    expect(redactWith(Number.NaN, opts)).toBeNull();
    expect(redactWith(-0, opts)).toBe(0);
    expect(redactWith(undefined, opts)).toBeNull();
    expect(redactWith(10n, opts)).toBe('10');
  });

  it('refuses a reused call id whether it is the run’s first or a later one', () => {
    const machine = new RunStateMachine();
    machine.accept({ type: 'agent_started' });
    const executing = (callId: string) => machine.accept({ type: 'tool_executing', callId, tool: 't' });
    expect(executing('a')).toBeUndefined();
    expect(executing('b')).toBeUndefined();
    expect(executing('c')).toBeUndefined();
    expect(executing('a')?.rule).toBe('call_id_unique');
    expect(executing('c')?.rule).toBe('call_id_unique');
    expect(machine.openCount).toBe(3);
  });

  it('gives a tool that reads its signal only after its call ended an aborted signal with the reason', async () => {
    let grab: (() => AbortSignal) | undefined;
    const late = defineTool({
      name: 'late',
      description: 'Keeps its context and never settles',
      input: z.object({}),
      access: 'user',
      timeoutMs: 5_000,
      run: (_input, ctx) => {
        grab = () => ctx.signal;
        return new Promise<never>(() => {});
      },
    });
    const factory = createDispatcherFactory({ tools: [late], sink: createMemorySink() });
    const scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
    const controller = new AbortController();
    const pending = scope.execute('late', {}, { signal: controller.signal });
    controller.abort('stop');
    expect(await pending).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    const signal = grab?.();
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toMatchObject({ code: 'CANCELLED' });
    await scope[Symbol.asyncDispose]();
  });

  it('settles a synchronous tool and counts its metrics per tool and status in first-seen order', async () => {
    const metrics = createInMemoryMetrics();
    const echo = defineTool({
      name: 'echo',
      description: 'Returns its input',
      input: z.object({ n: z.number() }),
      access: 'user',
      run: ({ n }) => ({ n }),
    });
    const sink = createMemorySink();
    const factory = createDispatcherFactory({ tools: [echo], sink, metrics });
    const scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
    expect(await scope.execute('echo', { n: 1 })).toMatchObject({ status: 'success', output: { n: 1 } });
    expect(await scope.execute('echo', { n: 'x' })).toMatchObject({ status: 'error' });
    expect(await scope.execute('nope', {})).toMatchObject({ status: 'error' });
    expect(await scope.execute('echo', { n: 2 })).toMatchObject({ status: 'success' });
    await scope[Symbol.asyncDispose]();
    expect(metrics.snapshot().executions).toEqual([
      { tool: 'echo', status: 'success', count: 2 },
      { tool: 'echo', status: 'error', count: 1 },
      { tool: '(unknown)', status: 'error', count: 1 },
    ]);
    const events = sink.events();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const event of events) expect(Object.isFrozen(event)).toBe(true);
    expect(events.find((e) => e.type === 'tool_completed' && e.status === 'error')).toMatchObject({
      error: { code: 'INVALID_INPUT' },
    });
  });

  it('ends a call whose own timeout is longer than the run deadline at the deadline, with no timer of its own', async () => {
    const hang = defineTool({
      name: 'hang',
      description: 'Never settles',
      input: z.object({}),
      access: 'user',
      timeoutMs: 60_000,
      run: () => new Promise<never>(() => {}),
    });
    const metrics = createInMemoryMetrics();
    const factory = createDispatcherFactory({
      tools: [hang],
      sink: createMemorySink(),
      metrics,
      limits: { runDeadlineMs: 30 },
    });
    const scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
    expect(await scope.execute('hang', {})).toMatchObject({ status: 'timeout', error: { code: 'RUN_DEADLINE' } });
    expect(metrics.snapshot().limitHits).toEqual({ RUN_DEADLINE: 1 });
    await scope[Symbol.asyncDispose]();
  });

  it('puts a NaN duration in the last histogram bucket, as before', () => {
    const metrics = createInMemoryMetrics();
    metrics.toolExecuted('t', 'success', Number.NaN);
    metrics.toolExecuted('t', 'success', 0.05);
    const { counts } = metrics.snapshot().durationHistogram;
    expect(counts[0]).toBe(1);
    expect(counts.at(-1)).toBe(1);
  });
});
