import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_CONTEXT_DEPTH, type UserExecutionContext } from './context.ts';
import { type AnyAgent, defineAgent, type ToolResult } from './defineAgent.ts';
import type { RunEvent } from './events.ts';
import { createDispatcherFactory } from './factory.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import type { DispatcherLimitsInput } from './limits/limits.ts';
import { createMemorySink } from './memorySink.ts';
import { createInMemoryMetrics } from './metrics.ts';
import { runAgent } from './runAgent.ts';
import { contextFor, sleep, type ToolLog, testTools, waitFor } from './testSupport.ts';

function setup(agents: AnyAgent[], limits?: DispatcherLimitsInput) {
  const log: ToolLog = { signals: [], contexts: [] };
  const sink = createMemorySink();
  const metrics = createInMemoryMetrics();
  const factory = createDispatcherFactory({
    tools: testTools(log),
    agents,
    sink,
    metrics,
    ...(limits ? { limits } : {}),
  });
  return { factory, sink, metrics, log };
}

// `type[:tool[:status]]` per event: a compact sequence to compare.
function shapeOf(events: readonly RunEvent[]): string[] {
  return events.map((e) =>
    e.type === 'tool_executing'
      ? `exec:${e.tool}`
      : e.type === 'tool_completed'
        ? `done:${e.tool}:${e.status}`
        : e.type === 'agent_completed'
          ? `end:${e.status}`
          : e.type,
  );
}

function oneAgent(name: string, run: AnyAgent['run'], opts: { access?: 'admin' } = {}): AnyAgent {
  return defineAgent({ name, description: name, input: z.object({}).passthrough(), ...opts, run });
}

describe('sub-agents', () => {
  it('runs a registered agent in a child context, its events recorded in the parent run for the same owner', async () => {
    const seen: UserExecutionContext[] = [];
    const child = oneAgent('child', async (_input, ctx) => {
      seen.push(ctx.context);
      ctx.think('child thinking');
      const sum = await ctx.callTool('add', { a: 1, b: 2 });
      return { sum: sum.status === 'success' ? sum.output : null, token: 'tok_secret' };
    });
    let got: ToolResult | undefined;
    const parent = oneAgent('parent', async (_input, ctx) => {
      ctx.think('delegating');
      got = await ctx.callAgent?.('child', {});
      return { child: got?.status ?? 'none' };
    });
    const { factory, sink, log } = setup([parent, child]);
    const context = contextFor('alice');
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, parent, {});
    expect(last).toMatchObject({ status: 'completed', result: { child: 'success' }, toolCalls: 2 });
    const events = sink.events(context.runId);
    expect(shapeOf(events)).toEqual([
      'agent_started',
      'agent_thinking',
      'exec:agent:child',
      'agent_thinking',
      'exec:add',
      'done:add:success',
      'done:agent:child:success',
      'end:completed',
    ]);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    expect(events.every((e) => e.userId === 'alice' && e.runId === context.runId)).toBe(true);
    expect(events.filter((e) => e.type === 'agent_thinking').map((e) => e.step)).toEqual([1, 2]);
    // The child context: same user, thread, run and roles, a new request id, one level deeper.
    const childContext = seen[0];
    expect(childContext).toMatchObject({
      userId: 'alice',
      runId: context.runId,
      threadId: context.threadId,
      depth: 1,
      parentRequestId: context.requestId,
    });
    expect(childContext?.requestId).not.toBe(context.requestId);
    expect(log.contexts[0]).toBe(childContext);
    // The parent gets the real result; the event carries the redacted one.
    expect(got).toMatchObject({ status: 'success', output: { sum: { sum: 3 }, token: 'tok_secret' } });
    expect(events.at(-2)).toMatchObject({ output: { sum: { sum: 3 }, token: '[REDACTED]' } });
  });

  it("names the sub-agent call that made each nested call in tool_executing.parentCallId, and no parent for the run's own calls", async () => {
    const grandchild = oneAgent('grandchild', async (_input, ctx) => {
      await ctx.callTool('add', { a: 1, b: 1 });
      return {};
    });
    const child = oneAgent('child', async (_input, ctx) => {
      await ctx.callTool('add', { a: 2, b: 2 });
      await ctx.callAgent?.('grandchild', {});
      return {};
    });
    const parent = oneAgent('parent', async (_input, ctx) => {
      await ctx.callTool('add', { a: 3, b: 3 });
      await ctx.callAgent?.('child', {});
      return {};
    });
    const { factory, sink } = setup([parent, child, grandchild]);
    const context = contextFor('alice');
    await using scope = factory.forRequest(context);
    await runAgent(scope, parent, {});
    const executing = sink.events(context.runId).filter((e) => e.type === 'tool_executing');
    const callOf = (tool: string, nth = 0) => executing.filter((e) => e.tool === tool)[nth];
    expect(executing.map((e) => e.tool)).toEqual(['add', 'agent:child', 'add', 'agent:grandchild', 'add']);
    expect(callOf('add', 0)).not.toHaveProperty('parentCallId');
    expect(callOf('agent:child')).not.toHaveProperty('parentCallId');
    expect(callOf('add', 1)?.parentCallId).toBe(callOf('agent:child')?.callId);
    expect(callOf('agent:grandchild')?.parentCallId).toBe(callOf('agent:child')?.callId);
    expect(callOf('add', 2)?.parentCallId).toBe(callOf('agent:grandchild')?.callId);
  });

  it(`stops at depth ${MAX_CONTEXT_DEPTH} with a typed refusal (INVALID_CONTEXT), as a denied call`, async () => {
    const depths: number[] = [];
    const recurse = oneAgent('recurse', async (_input, ctx) => {
      depths.push(ctx.context.depth);
      const deeper = await ctx.callAgent?.('recurse', {});
      return deeper?.status === 'success'
        ? { depth: ctx.context.depth, below: deeper.output }
        : { refused: deeper ?? null };
    });
    const { factory, sink } = setup([recurse]);
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, recurse, {});
    expect(last.status).toBe('completed');
    expect(depths).toEqual(Array.from({ length: MAX_CONTEXT_DEPTH + 1 }, (_, i) => i));
    const events = sink.events(context.runId);
    const completions = events.filter((e) => e.type === 'tool_completed');
    expect(completions).toHaveLength(MAX_CONTEXT_DEPTH + 1);
    expect(completions[0]).toMatchObject({ status: 'denied', error: { code: 'INVALID_CONTEXT' } });
    expect(completions.slice(1).every((e) => e.status === 'success')).toBe(true);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
  });

  it('cancels the sub-agent, and its open calls first, when the parent run is cancelled', async () => {
    let childSignal: AbortSignal | undefined;
    const child = oneAgent('child', async (_input, ctx) => {
      childSignal = ctx.signal;
      void ctx.callTool('block', {});
      await sleep(10_000, ctx.signal);
      return null;
    });
    const parent = oneAgent('parent', async (_input, ctx) => (await ctx.callAgent?.('child', {}))?.status ?? null);
    const { factory, sink, metrics } = setup([parent, child]);
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const done = runAgent(scope, parent, {});
    await waitFor(() => metrics.snapshot().eventsByType.tool_executing === 2);
    factory.cancelRun(context.runId, 'stop');
    expect((await done).status).toBe('cancelled');
    expect(childSignal?.aborted).toBe(true);
    const events = sink.events(context.runId);
    expect(shapeOf(events)).toEqual([
      'agent_started',
      'exec:agent:child',
      'exec:block',
      'done:block:cancelled',
      'done:agent:child:cancelled',
      'end:cancelled',
    ]);
    expect(events.at(-2)).toMatchObject({ error: { code: 'CANCELLED' } });
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
  });

  it('bounds the sub-agent by the parent run’s deadline, whatever its own timeout', async () => {
    const child = oneAgent('child', async (_input, ctx) => {
      await ctx.callTool('block', {});
      return null;
    });
    const parent = oneAgent('parent', async (_input, ctx) => {
      await ctx.callAgent?.('child', {}, { timeoutMs: 60_000 });
      return null;
    });
    const { factory, sink } = setup([parent, child], { runDeadlineMs: 40 });
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, parent, {});
    expect(last).toMatchObject({ status: 'failed', error: { code: 'RUN_DEADLINE' } });
    const events = sink.events(context.runId);
    expect(shapeOf(events)).toEqual([
      'agent_started',
      'exec:agent:child',
      'exec:block',
      'done:block:timeout',
      'done:agent:child:timeout',
      'end:failed',
    ]);
    expect(events.slice(3, 5).every((e) => e.type === 'tool_completed' && e.error?.code === 'RUN_DEADLINE')).toBe(true);
  });

  it('ends a sub-agent at its own shorter deadline; the parent goes on, and the late sub-agent makes no events', async () => {
    let late: ToolResult | undefined;
    let childSignal: AbortSignal | undefined;
    const child = oneAgent('child', async (_input, ctx) => {
      childSignal = ctx.signal;
      await ctx.callTool('sleep', { ms: 250 });
      ctx.think('too late');
      late = await ctx.callTool('add', { a: 1, b: 1 });
      return null;
    });
    const parent = oneAgent('parent', async (_input, ctx) => {
      const sub = await ctx.callAgent?.('child', {}, { timeoutMs: 20 });
      await waitFor(() => late !== undefined);
      const after = await ctx.callTool('add', { a: 2, b: 2 });
      return {
        sub: sub?.status ?? null,
        code: sub === undefined || sub.status === 'success' ? null : sub.error.code,
        after: after.status,
      };
    });
    const { factory, sink } = setup([parent, child]);
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, parent, {});
    expect(last).toMatchObject({
      status: 'completed',
      result: { sub: 'timeout', code: 'TOOL_TIMEOUT', after: 'success' },
    });
    expect(childSignal?.aborted).toBe(true);
    expect(late).toMatchObject({ status: 'cancelled', error: { code: 'RUN_FINISHED' } });
    const events = sink.events(context.runId);
    expect(shapeOf(events)).toEqual([
      'agent_started',
      'exec:agent:child',
      'exec:sleep',
      'done:sleep:cancelled',
      'done:agent:child:timeout',
      'exec:add',
      'done:add:success',
      'end:completed',
    ]);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
  });

  it('refuses, as results with their events, an unknown agent, an admin agent, bad input and a bad timeout; a failing sub-agent is an error', async () => {
    const admin = oneAgent('admin_only', () => 'secret', { access: 'admin' });
    const strict = defineAgent({
      name: 'strict',
      description: 'strict',
      input: z.object({ n: z.number() }),
      run: () => 1,
    });
    const broken = oneAgent('broken', () => {
      throw new Error('the sub-agent broke');
    });
    const results: Record<string, unknown> = {};
    const parent = oneAgent('parent', async (_input, ctx) => {
      const call = async (key: string, name: string, input: unknown, opts?: { timeoutMs?: number }) => {
        const result = await ctx.callAgent?.(name, input, opts);
        results[key] = result?.status === 'success' ? result.status : [result?.status, result?.error.code];
      };
      await call('unknown', 'nobody', {});
      await call('admin', 'admin_only', {});
      await call('input', 'strict', { n: 'one' });
      await call('timeout', 'strict', { n: 1 }, { timeoutMs: -1 });
      await call('broken', 'broken', {});
      await call('ok', 'strict', { n: 1 });
      return null;
    });
    const { factory, sink, metrics } = setup([parent, admin, strict, broken]);
    const context = contextFor('bob');
    await using scope = factory.forRequest(context);
    expect((await runAgent(scope, parent, {})).status).toBe('completed');
    expect(results).toEqual({
      unknown: ['error', 'UNKNOWN_AGENT'],
      admin: ['denied', 'ACCESS_DENIED'],
      input: ['error', 'INVALID_INPUT'],
      timeout: ['error', 'INVALID_INPUT'],
      broken: ['error', 'AGENT_FAILED'],
      ok: 'success',
    });
    const events = sink.events(context.runId);
    expect(events.filter((e) => e.type === 'tool_executing')).toHaveLength(6);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    // Metrics label sub-agents by their tool name; an unknown agent cannot mint a label.
    const labels = new Set(metrics.snapshot().executions.map((e) => e.tool));
    expect(labels).toEqual(new Set(['(unknown)', 'agent:admin_only', 'agent:strict', 'agent:broken']));
  });
});
