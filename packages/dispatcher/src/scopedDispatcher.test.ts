import { describe, expect, it } from 'vitest';
import type { RunEvent, ToolCompletedEvent, ToolExecutingEvent } from './events.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import * as publicApi from './index.ts';
import { contextFor, manualClock, shape, type ToolLog, testFactory } from './testSupport.ts';

function completedOf(events: readonly RunEvent[]): ToolCompletedEvent[] {
  return events.filter((e): e is ToolCompletedEvent => e.type === 'tool_completed');
}

describe('RequestScopedToolDispatcher.execute', () => {
  it('runs a tool and emits a direct run: agent_started, tool_executing, tool_completed, agent_completed on dispose', async () => {
    const { factory, sink } = testFactory();
    const context = contextFor('alice');
    const scope = factory.forRequest(context);
    const result = await scope.execute('add', { a: 2, b: 3 });
    expect(result).toMatchObject({ status: 'success', output: { sum: 5 } });
    expect(scope.state).toBe('running');
    await scope[Symbol.asyncDispose]();
    const events = sink.events(context.runId);
    expect(shape(events)).toEqual([
      'agent_started',
      'tool_executing:add',
      'tool_completed:add:success',
      'agent_completed:completed',
    ]);
    expect(events[0]).toMatchObject({ agent: '(direct)', input: null, userId: 'alice', threadId: context.threadId });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4].map((s) => `${context.runId}:${s}`));
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    for (const event of events) expect(publicApi.runEventSchema.parse(event)).toEqual(event);
    expect(scope.state).toBe('disposed');
  });

  it('gives the tool the scope’s frozen context and nothing else', async () => {
    const log: ToolLog = { signals: [], contexts: [] };
    const { factory } = testFactory({ log });
    const context = contextFor('alice');
    await using scope = factory.forRequest(context);
    await scope.execute('add', { a: 1, b: 1 });
    expect(log.contexts[0]).toBe(context);
    expect(Object.isFrozen(log.contexts[0])).toBe(true);
  });

  it.each([
    ['UNKNOWN_TOOL', 'error', 'nope', {}],
    ['INVALID_INPUT', 'error', 'add', { a: 'one', b: 2 }],
    ['ACCESS_DENIED', 'denied', 'purge', {}],
    ['TOOL_FAILED', 'error', 'fail', { message: 'kaput' }],
    ['INVALID_OUTPUT', 'error', 'liar', {}],
    ['TOOL_TIMEOUT', 'timeout', 'hang', {}],
  ] as const)(
    'refuses or fails with %s (%s) and still emits tool_executing then tool_completed',
    async (code, status, tool, input) => {
      const { factory, sink, metrics } = testFactory();
      const context = contextFor('alice');
      const scope = factory.forRequest(context);
      const result = await scope.execute(tool, input);
      expect(result.status).toBe(status);
      expect(result.status !== 'success' && result.error.code).toBe(code);
      await scope[Symbol.asyncDispose]();
      const events = sink.events(context.runId);
      expect(shape(events).slice(1, 3)).toEqual([`tool_executing:${tool}`, `tool_completed:${tool}:${status}`]);
      expect(completedOf(events)[0]?.error?.code).toBe(code);
      expect(findOrderingViolations(events, { finished: true })).toEqual([]);
      const label = tool === 'nope' ? '(unknown)' : tool;
      expect(metrics.snapshot().executions).toContainEqual({ tool: label, status, count: 1 });
    },
  );

  it('puts the schema’s issues in the INVALID_INPUT message', async () => {
    const { factory } = testFactory();
    await using scope = factory.forRequest(contextFor());
    const result = await scope.execute('add', { a: 'one' });
    expect(result.status === 'error' && result.error.message).toMatch(/a: .*expected number.*; b: .*expected number/);
  });

  it('runs an admin tool for an admin', async () => {
    const { factory } = testFactory();
    await using scope = factory.forRequest(contextFor('root-admin', ['user', 'admin']));
    expect((await scope.execute('purge', {})).status).toBe('success');
  });

  it('completes a call to a tool switched off by an admin at once with TOOL_DISABLED, and runs it again once switched on', async () => {
    const disabled = new Map<string, string>([['add', 'maintenance']]);
    const log: ToolLog = { signals: [], contexts: [] };
    const { factory, sink } = testFactory({ log, toolSwitch: { disabledReason: (tool) => disabled.get(tool) } });
    const context = contextFor('alice');
    await using scope = factory.forRequest(context);
    const refused = await scope.execute('add', { a: 1, b: 2 });
    expect(refused).toMatchObject({ status: 'error', error: { code: 'TOOL_DISABLED' } });
    expect(refused.status === 'error' && refused.error.message).toContain('maintenance');
    expect(log.contexts).toHaveLength(0);
    disabled.delete('add');
    expect(await scope.execute('add', { a: 1, b: 2 })).toMatchObject({ status: 'success', output: { sum: 3 } });
    expect(shape(sink.events(context.runId)).slice(1)).toEqual([
      'tool_executing:add',
      'tool_completed:add:error',
      'tool_executing:add',
      'tool_completed:add:success',
    ]);
  });

  it('refuses input over maxInputChars with INPUT_TOO_LARGE and counts the limit', async () => {
    const { factory, metrics } = testFactory({ limits: { maxInputChars: 100 } });
    await using scope = factory.forRequest(contextFor());
    const result = await scope.execute('fail', { message: 'x'.repeat(200) });
    expect(result.status === 'error' && result.error.code).toBe('INPUT_TOO_LARGE');
    expect(metrics.snapshot().limitHits.INPUT_TOO_LARGE).toBe(1);
  });

  it('times out a slow tool at its own timeoutMs, aborts the signal the tool holds, and counts TOOL_TIMEOUT', async () => {
    const log: ToolLog = { signals: [], contexts: [] };
    const { factory, metrics } = testFactory({ log });
    await using scope = factory.forRequest(contextFor());
    // sleep's own timeout is 300 ms, far below the 30 s default.
    const result = await scope.execute('sleep', { ms: 5_000 });
    expect(result).toMatchObject({ status: 'timeout', error: { code: 'TOOL_TIMEOUT' } });
    expect(log.signals[0]?.aborted).toBe(true);
    expect(log.signals[0]?.reason).toMatchObject({ code: 'TOOL_TIMEOUT' });
    expect(metrics.snapshot().limitHits.TOOL_TIMEOUT).toBe(1);
  });

  it('cancels a call when the caller’s signal aborts, and the abort reaches the tool', async () => {
    const log: ToolLog = { signals: [], contexts: [] };
    const { factory, sink } = testFactory({ log });
    const context = contextFor();
    const scope = factory.forRequest(context);
    const controller = new AbortController();
    // The tool runs synchronously up to its first await: it holds its signal when execute returns.
    const pending = scope.execute('sleep', { ms: 5_000 }, { signal: controller.signal });
    controller.abort(new Error('user pressed stop'));
    const result = await pending;
    expect(result).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED', message: 'user pressed stop' } });
    expect(log.signals[0]?.aborted).toBe(true);
    await scope[Symbol.asyncDispose]();
    expect(shape(sink.events(context.runId))).toContain('tool_completed:sleep:cancelled');
  });

  it('cancels at once when the caller’s signal is already aborted, without running the tool', async () => {
    const log: ToolLog = { signals: [], contexts: [] };
    const { factory } = testFactory({ log });
    await using scope = factory.forRequest(contextFor());
    const result = await scope.execute('sleep', { ms: 1 }, { signal: AbortSignal.abort() });
    expect(result.status).toBe('cancelled');
    expect(log.signals).toHaveLength(0);
  });

  it('rate-limits tool calls per user with a token bucket (RATE_LIMITED, denied)', async () => {
    const { factory, metrics } = testFactory({
      limits: { rateLimit: { user: { capacity: 2, refillPerSecond: 0.001 } } },
    });
    await using a = factory.forRequest(contextFor('alice'));
    await using b = factory.forRequest(contextFor('bob'));
    const results = [await a.execute('add', { a: 1, b: 1 }), await a.execute('add', { a: 1, b: 1 })];
    const third = await a.execute('add', { a: 1, b: 1 });
    expect(results.map((r) => r.status)).toEqual(['success', 'success']);
    expect(third).toMatchObject({ status: 'denied', error: { code: 'RATE_LIMITED' } });
    // Another user has a bucket of their own.
    expect((await b.execute('add', { a: 1, b: 1 })).status).toBe('success');
    expect(metrics.snapshot().limitHits.RATE_LIMITED).toBe(1);
  });

  it('gives admins their own, larger bucket', async () => {
    const { factory } = testFactory({
      limits: {
        rateLimit: { user: { capacity: 1, refillPerSecond: 0.001 }, admin: { capacity: 3, refillPerSecond: 0.001 } },
      },
    });
    await using scope = factory.forRequest(contextFor('boss', ['user', 'admin']));
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await scope.execute('add', { a: 1, b: 1 })).status);
    expect(statuses).toEqual(['success', 'success', 'success', 'denied']);
  });

  it('refuses calls over maxParallelToolCalls in one run with PARALLEL_CALL_LIMIT', async () => {
    const { factory } = testFactory({ limits: { maxParallelToolCalls: 2 } });
    await using scope = factory.forRequest(contextFor());
    const results = await Promise.all([
      scope.execute('sleep', { ms: 20 }),
      scope.execute('sleep', { ms: 20 }),
      scope.execute('sleep', { ms: 20 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'denied']);
    expect(results[2]?.status !== 'success' && results[2]?.error.code).toBe('PARALLEL_CALL_LIMIT');
    // Once they are done, there is room again.
    expect((await scope.execute('sleep', { ms: 1 })).status).toBe('success');
  });

  it('opens a tool’s circuit after N consecutive failures, then half-opens after the cooldown', async () => {
    const clock = manualClock();
    const { factory, metrics } = testFactory({
      clock,
      limits: { circuitBreaker: { failureThreshold: 2, cooldownMs: 40 } },
    });
    await using scope = factory.forRequest(contextFor());
    expect((await scope.execute('flaky', { fail: true })).status).toBe('error');
    expect((await scope.execute('flaky', { fail: true })).status).toBe('error');
    const refused = await scope.execute('flaky', { fail: false });
    expect(refused).toMatchObject({ status: 'denied', error: { code: 'CIRCUIT_OPEN' } });
    // Other tools are not affected.
    expect((await scope.execute('add', { a: 1, b: 1 })).status).toBe('success');
    clock.advance(39);
    expect((await scope.execute('flaky', { fail: false })).status).toBe('denied');
    clock.advance(1);
    expect((await scope.execute('flaky', { fail: false })).status).toBe('success');
    expect((await scope.execute('flaky', { fail: false })).status).toBe('success');
    expect(metrics.snapshot().limitHits.CIRCUIT_OPEN).toBe(2);
  });

  it('redacts secret-looking keys and the tool’s sensitive fields in events, but returns the real output', async () => {
    const { factory, sink } = testFactory({ limits: { redaction: { maxStringLength: 10 } } });
    const context = contextFor();
    const scope = factory.forRequest(context);
    const result = await scope.execute('vault', { account: 'acc-1', pin: '1234', apiKey: 'sk-live' });
    await scope[Symbol.asyncDispose]();
    expect(result.status === 'success' && result.output).toMatchObject({ ssn: '123-45-6789', token: 'tok_live_1' });
    const events = sink.events(context.runId);
    const executing = events.find((e): e is ToolExecutingEvent => e.type === 'tool_executing');
    expect(executing?.input).toEqual({ account: 'acc-1', pin: '[REDACTED]', apiKey: '[REDACTED]' });
    expect(completedOf(events)[0]?.output).toEqual({
      account: 'acc-1',
      ssn: '[REDACTED]',
      token: '[REDACTED]',
      note: `${'x'.repeat(10)}…[truncated 40 chars]`,
    });
    expect(JSON.stringify(events)).not.toMatch(/1234|sk-live|123-45|tok_live/);
  });

  it('freezes events so that no consumer can change what another sees', async () => {
    const { factory, sink } = testFactory();
    const context = contextFor();
    const scope = factory.forRequest(context);
    await scope.execute('add', { a: 1, b: 2 });
    await scope[Symbol.asyncDispose]();
    const completed = completedOf(sink.events(context.runId))[0];
    expect(Object.isFrozen(completed)).toBe(true);
    expect(Object.isFrozen(completed?.output)).toBe(true);
  });
});
