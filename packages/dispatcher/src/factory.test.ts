import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from './defineAgent.ts';
import { DispatchError } from './errors.ts';
import { createDispatcherFactory } from './factory.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import { createMemorySink } from './memorySink.ts';
import { contextFor, shape, testFactory, testTools, waitFor } from './testSupport.ts';

function thrown(fn: () => unknown): DispatchError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DispatchError) return error;
    throw error;
  }
  throw new Error('expected a DispatchError');
}

describe('createDispatcherFactory', () => {
  it('lists tools with their JSON Schema and effective timeout, admin tools only for admins', () => {
    const { factory } = testFactory({ limits: { toolTimeoutMs: 12_345 } });
    const add = factory.tools.list().find((t) => t.name === 'add');
    expect(add).toEqual({
      name: 'add',
      description: 'Adds two numbers',
      access: 'user',
      timeoutMs: 12_345,
      inputSchema: expect.objectContaining({
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      }),
    });
    expect(factory.tools.list().find((t) => t.name === 'sleep')?.timeoutMs).toBe(300);
    expect(factory.tools.listFor(['user']).map((t) => t.name)).not.toContain('purge');
    expect(factory.tools.listFor(['user', 'admin']).map((t) => t.name)).toContain('purge');
    expect(factory.tools.get('add')?.name).toBe('add');
    expect(factory.tools.get('__proto__')).toBeUndefined();
    expect(Object.isFrozen(add?.inputSchema)).toBe(true);
    expect(factory.agents.listFor(['user']).map((a) => a.name)).not.toContain('root');
  });

  it.each([
    ['a duplicate name', [...testTools(), testTools()[0]], /"add": is defined twice/],
    ['a malformed name', [{ ...testTools()[0], name: 'add tool' }], /name must match/],
    ['a missing schema', [{ ...testTools()[0], input: { parse: () => 1 } }], /input must be a zod schema/],
    ['a bad access', [{ ...testTools()[0], access: 'root' }], /access must be "user" or "admin"/],
    ['a bad timeout', [{ ...testTools()[0], timeoutMs: -1 }], /timeoutMs must be a positive/],
    ['no description', [{ ...testTools()[0], description: ' ' }], /description must be/],
  ])('refuses a registry with %s (INVALID_REGISTRY)', (_label, tools, message) => {
    const error = thrown(() => createDispatcherFactory({ tools: tools as never, sink: createMemorySink() }));
    expect(error.code).toBe('INVALID_REGISTRY');
    expect(error.message).toMatch(message);
  });

  it('refuses invalid limits, naming the field (INVALID_LIMITS)', () => {
    const error = thrown(() =>
      createDispatcherFactory({
        tools: [],
        sink: createMemorySink(),
        limits: { circuitBreaker: { failureThreshold: 0 } },
      }),
    );
    expect(error).toMatchObject({
      code: 'INVALID_LIMITS',
      message: expect.stringContaining('circuitBreaker.failureThreshold'),
    });
  });

  it('creates contexts with fresh run and request ids from its id source', () => {
    let n = 0;
    const ids = { runId: () => `run-n${++n}`, requestId: () => `req-n${n}`, callId: () => `call-n${n}` };
    const factory = createDispatcherFactory({ tools: [], sink: createMemorySink(), ids });
    const a = factory.createContext({ userId: 'alice', threadId: 'thread-9' });
    const b = factory.createContext({ userId: 'alice' });
    expect(a).toMatchObject({ userId: 'alice', threadId: 'thread-9', runId: 'run-n1', requestId: 'req-n1' });
    expect(b.runId).toBe('run-n2');
    expect(b.threadId).toMatch(/^thread_/);
  });
});

describe('factory.startRun', () => {
  it('starts a detached run, lists it while active and disposes its scope when it ends', async () => {
    const { factory, sink } = testFactory();
    const context = contextFor();
    const handle = factory.startRun({ context, agent: 'planner', input: { n: 2 } });
    expect(handle).toMatchObject({ runId: context.runId, agent: 'planner', context });
    expect(factory.activeRuns()).toEqual([
      {
        runId: context.runId,
        userId: 'alice',
        threadId: context.threadId,
        agent: 'planner',
        startedAt: expect.any(String),
      },
    ]);
    expect(factory.liveScopes('alice')).toBe(1);
    const last = await handle.done;
    expect(last.status).toBe('completed');
    expect(factory.activeRuns()).toEqual([]);
    expect(factory.liveScopes()).toBe(0);
    expect(findOrderingViolations(sink.events(context.runId), { finished: true })).toEqual([]);
  });

  it.each([
    ['UNKNOWN_AGENT', 'nobody', {}, ['user']],
    ['INVALID_INPUT', 'planner', { n: 'two' }, ['user']],
    ['ACCESS_DENIED', 'root', {}, ['user']],
  ] as const)(
    'throws %s synchronously, before any event, and leaves the context usable',
    async (code, agent, input, roles) => {
      const { factory, sink } = testFactory();
      const context = contextFor('alice', roles);
      expect(thrown(() => factory.startRun({ context, agent, input })).code).toBe(code);
      expect(sink.events()).toEqual([]);
      expect(factory.liveScopes()).toBe(0);
      const handle = factory.startRun({ context, agent: 'planner', input: { n: 1 } });
      expect((await handle.done).status).toBe('completed');
    },
  );

  it('gives INVALID_INPUT the schema’s issues as details', () => {
    const { factory } = testFactory();
    const error = thrown(() => factory.startRun({ context: contextFor(), agent: 'planner', input: {} }));
    expect(error.details).toEqual([expect.objectContaining({ path: ['n'] })]);
  });

  it('cancels a run by id; the run still ends with its events', async () => {
    const { factory, sink } = testFactory();
    const context = contextFor();
    const handle = factory.startRun({ context, agent: 'stubborn', input: {} });
    await waitFor(() => shape(sink.events(context.runId)).includes('tool_executing:block'));
    expect(factory.cancelRun(context.runId, 'enough')).toBe(true);
    expect(factory.cancelRun(context.runId)).toBe(false);
    expect(factory.cancelRun('run-that-does-not-exist')).toBe(false);
    const last = await handle.done;
    expect(last).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED', message: 'enough' } });
    expect(shape(sink.events(context.runId)).at(-2)).toBe('tool_completed:block:cancelled');
  });

  it('cancels through the handle and through a signal', async () => {
    const { factory } = testFactory();
    const viaHandle = factory.startRun({ context: contextFor(), agent: 'stubborn', input: {} });
    viaHandle.cancel('from the handle');
    const controller = new AbortController();
    const viaSignal = factory.startRun({
      context: contextFor(),
      agent: 'stubborn',
      input: {},
      signal: controller.signal,
    });
    controller.abort('from a signal');
    expect((await viaHandle.done).error?.message).toBe('from the handle');
    expect((await viaSignal.done).error?.message).toBe('from a signal');
  });

  it('runs parallel tool calls with interleaved events that still keep the ordering rules', async () => {
    const { factory, sink } = testFactory();
    const context = contextFor();
    await using scope = factory.forRequest(context);
    await Promise.all([scope.execute('sleep', { ms: 10 }), scope.execute('sleep', { ms: 1 })]);
    await scope[Symbol.asyncDispose]();
    const events = sink.events(context.runId);
    expect(shape(events).slice(1, 3)).toEqual(['tool_executing:sleep', 'tool_executing:sleep']);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
  });
});

describe('factory.drain', () => {
  it('refuses new work at once and waits for runs that finish within the grace period', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const waiter = defineAgent({
      name: 'waiter',
      description: 'Waits for the test',
      input: z.object({}),
      run: async () => {
        await gate;
        return 'finished';
      },
    });
    const sink = createMemorySink({ delayMs: 2 });
    const factory = createDispatcherFactory({ tools: testTools(), agents: [waiter], sink });
    const run = factory.startRun({ context: contextFor('alice'), agent: 'waiter', input: {} });
    const drained = factory.drain({ graceMs: 60_000 });
    expect(thrown(() => factory.forRequest(contextFor())).code).toBe('SHUTTING_DOWN');
    expect(thrown(() => factory.startRun({ context: contextFor(), agent: 'waiter', input: {} })).code).toBe(
      'SHUTTING_DOWN',
    );
    release();
    await drained;
    expect(await run.done).toMatchObject({ status: 'completed', result: 'finished' });
    expect(sink.events(run.runId).at(-1)?.type).toBe('agent_completed');
  });

  it('interrupts what is still running after the grace period, direct runs included, and resolves once the sink took it all', async () => {
    const sink = createMemorySink({ delayMs: 2 });
    const { factory } = testFactory({ sink });
    const stuck = factory.startRun({ context: contextFor('bob'), agent: 'stubborn', input: {} });
    const idle = factory.forRequest(contextFor('carol'));
    await idle.execute('add', { a: 1, b: 1 });
    await factory.drain({ graceMs: 20 });
    expect(await stuck.done).toMatchObject({ status: 'interrupted', error: { code: 'SHUTTING_DOWN' } });
    expect(factory.activeRuns()).toEqual([]);
    for (const runId of [stuck.runId, idle.context.runId]) {
      const events = sink.events(runId);
      expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'interrupted' });
      expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    }
    await idle[Symbol.asyncDispose]();
    expect(factory.liveScopes()).toBe(0);
  });
});
