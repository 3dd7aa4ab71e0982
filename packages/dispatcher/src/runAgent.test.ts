import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent } from './defineAgent.ts';
import { DispatchError } from './errors.ts';
import type { AgentThinkingEvent } from './events.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import { createMemorySink } from './memorySink.ts';
import { runAgent } from './runAgent.ts';
import { contextFor, shape, sleep, type ToolLog, testAgents, testFactory, waitFor } from './testSupport.ts';

function agent(name: string) {
  const found = testAgents.find((a) => a.name === name);
  if (!found) throw new Error(`no test agent ${name}`);
  return found;
}

async function rejectionOf(promise: Promise<unknown>): Promise<DispatchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DispatchError)) throw new Error(`expected a DispatchError, got ${String(error)}`);
  return error;
}

describe('runAgent', () => {
  it('emits agent_started first, the agent’s thinking and parallel tool calls, and one agent_completed last', async () => {
    const { factory, sink, metrics } = testFactory();
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, agent('planner'), { n: 40 });
    expect(last).toMatchObject({ type: 'agent_completed', status: 'completed', toolCalls: 3 });
    expect(last.result).toEqual({ a: 'success', b: 'success', s: 'success' });
    const events = sink.events(context.runId);
    // done resolves only once the sink has the last event.
    expect(events.at(-1)).toEqual(last);
    expect(events[0]).toMatchObject({ type: 'agent_started', agent: 'planner', input: { n: 40 } });
    // add is synchronous, so each call completes before the next starts; sleep is not.
    expect(shape(events)).toEqual([
      'agent_started',
      'agent_thinking',
      'tool_executing:add',
      'tool_completed:add:success',
      'tool_executing:add',
      'tool_completed:add:success',
      'agent_thinking',
      'tool_executing:sleep',
      'tool_completed:sleep:success',
      'agent_completed:completed',
    ]);
    const thinking = events.filter((e): e is AgentThinkingEvent => e.type === 'agent_thinking');
    expect(thinking.map((e) => [e.step, e.text])).toEqual([
      [1, 'planning for 40'],
      [2, 'sleeping'],
    ]);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    expect(metrics.snapshot().runsByStatus.completed).toBe(1);
  });

  it('fails the run with AGENT_FAILED when the agent throws, after its tool calls completed', async () => {
    const { factory, sink } = testFactory();
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, agent('thrower'), {});
    expect(last).toMatchObject({ status: 'failed', error: { code: 'AGENT_FAILED', message: 'the agent broke' } });
    expect(findOrderingViolations(sink.events(context.runId), { finished: true })).toEqual([]);
  });

  it('closes a call the agent left open (as cancelled) before agent_completed', async () => {
    const log: ToolLog = { signals: [], contexts: [] };
    const { factory, sink } = testFactory({ log });
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, agent('abandoner'), {});
    expect(last.status).toBe('completed');
    expect(shape(sink.events(context.runId))).toEqual([
      'agent_started',
      'tool_executing:sleep',
      'tool_completed:sleep:cancelled',
      'agent_completed:completed',
    ]);
    expect(log.signals[0]?.aborted).toBe(true);
  });

  it('cancels through its signal even when the agent ignores it, closing the open call first', async () => {
    const { factory, sink } = testFactory();
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const controller = new AbortController();
    const done = runAgent(scope, agent('stubborn'), {}, { signal: controller.signal });
    await waitFor(() => shape(sink.events(context.runId)).includes('tool_executing:block'));
    controller.abort('stop it');
    const last = await done;
    expect(last).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED', message: 'stop it' } });
    expect(shape(sink.events(context.runId))).toEqual([
      'agent_started',
      'agent_thinking',
      'tool_executing:block',
      'tool_completed:block:cancelled',
      'agent_completed:cancelled',
    ]);
  });

  it('ends a run that passes its deadline as failed with RUN_DEADLINE, its open call as a timeout', async () => {
    const { factory, sink, metrics } = testFactory({ limits: { runDeadlineMs: 20 } });
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, agent('stubborn'), {});
    expect(last).toMatchObject({ status: 'failed', error: { code: 'RUN_DEADLINE' } });
    const events = sink.events(context.runId);
    expect(events.at(-2)).toMatchObject({ type: 'tool_completed', status: 'timeout', error: { code: 'RUN_DEADLINE' } });
    expect(metrics.snapshot().limitHits.RUN_DEADLINE).toBe(1);
  });

  it('gives the agent a signal that aborts with the run', async () => {
    let seen: AbortSignal | undefined;
    const watcher = defineAgent({
      name: 'watcher',
      description: 'Waits on its signal',
      input: z.object({}),
      async run(_input, ctx) {
        seen = ctx.signal;
        await sleep(10_000, ctx.signal);
        return null;
      },
    });
    const { factory } = testFactory();
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const done = runAgent(scope, watcher, {});
    await waitFor(() => seen !== undefined);
    factory.cancelRun(context.runId, 'by the owner');
    expect((await done).status).toBe('cancelled');
    expect(seen?.aborted).toBe(true);
  });

  it('refuses before any event: invalid input (with the issues as details), access, a used scope, a non-scope', async () => {
    const { factory, sink } = testFactory();
    const scope = factory.forRequest(contextFor());
    const invalid = await rejectionOf(runAgent(scope, agent('planner'), { n: 'x' }));
    expect(invalid.code).toBe('INVALID_INPUT');
    expect(invalid.details).toEqual([expect.objectContaining({ path: ['n'], code: 'invalid_type' })]);
    expect((await rejectionOf(runAgent(scope, agent('root'), {}))).code).toBe('ACCESS_DENIED');
    expect(sink.events()).toEqual([]);
    await runAgent(scope, agent('planner'), { n: 1 });
    expect((await rejectionOf(runAgent(scope, agent('planner'), { n: 1 }))).code).toBe('RUN_ALREADY_STARTED');
    const fake = { context: contextFor(), execute: () => Promise.reject(new Error('x')) } as unknown as typeof scope;
    expect((await rejectionOf(runAgent(fake, agent('planner'), { n: 1 }))).code).toBe('INVALID_SCOPE');
    await scope[Symbol.asyncDispose]();
    expect((await rejectionOf(runAgent(scope, agent('planner'), { n: 1 }))).code).toBe('SCOPE_DISPOSED');
    const used = factory.forRequest(contextFor());
    expect((await rejectionOf(runAgent(used, agent('planner'), { n: 1 }, { signal: AbortSignal.abort() }))).code).toBe(
      'CANCELLED',
    );
    await used[Symbol.asyncDispose]();
  });

  it('limits concurrent runs per user (CONCURRENT_RUN_LIMIT) and frees the slot when a run ends', async () => {
    const { factory } = testFactory({ limits: { maxConcurrentRunsPerUser: 1 } });
    const first = factory.forRequest(contextFor('alice'));
    const controller = new AbortController();
    const running = runAgent(first, agent('stubborn'), {}, { signal: controller.signal });
    const second = factory.forRequest(contextFor('alice'));
    expect((await rejectionOf(runAgent(second, agent('planner'), { n: 1 }))).code).toBe('CONCURRENT_RUN_LIMIT');
    // Another user is not affected.
    await using bob = factory.forRequest(contextFor('bob'));
    expect((await runAgent(bob, agent('planner'), { n: 1 })).status).toBe('completed');
    controller.abort();
    await running;
    expect((await runAgent(second, agent('planner'), { n: 1 })).status).toBe('completed');
    await first[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
  });

  it('rate-limits run starts per user (RATE_LIMITED, with retryAfterMs)', async () => {
    const { factory } = testFactory({ limits: { rateLimit: { user: { capacity: 1, refillPerSecond: 0.01 } } } });
    await using a = factory.forRequest(contextFor());
    await using b = factory.forRequest(contextFor());
    const quiet = defineAgent({ name: 'quiet', description: 'No tools', input: z.object({}), run: () => 'ok' });
    expect((await runAgent(a, quiet, {})).status).toBe('completed');
    const refused = await rejectionOf(runAgent(b, quiet, {}));
    expect(refused.code).toBe('RATE_LIMITED');
    expect((refused.details as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
  });

  it('fails the run closed with SINK_FAILED when the sink rejects, and still delivers the closing events on retry', async () => {
    let failures = 1;
    const sink = createMemorySink({ delayMs: 1, fail: () => failures-- > 0 });
    const { factory } = testFactory({ sink });
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, agent('stubborn'), {});
    expect(last).toMatchObject({ status: 'failed', error: { code: 'SINK_FAILED' } });
    const events = sink.events(context.runId);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    expect(events.at(-1)).toEqual(last);
  });

  it('keeps seq order and loses nothing with a slow, asynchronous sink that takes batches', async () => {
    const sink = createMemorySink({ delayMs: (batch) => (batch.length % 3) * 3 });
    const { factory } = testFactory({ sink });
    const contexts = [contextFor('alice'), contextFor('bob'), contextFor('carol')];
    await Promise.all(
      contexts.map(async (context) => {
        await using scope = factory.forRequest(context);
        await runAgent(scope, agent('planner'), { n: 1 });
      }),
    );
    for (const context of contexts) {
      const events = sink.events(context.runId);
      expect(events).toHaveLength(10);
      expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    }
    // Events waiting on a slow write went together in the next one.
    expect(sink.writes.some((batch) => batch.length > 1)).toBe(true);
  });

  it('drops, without events or violations, what an agent does after its run ended', async () => {
    let late: Promise<unknown> | undefined;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const zombie = defineAgent({
      name: 'zombie',
      description: 'Ignores cancellation and carries on',
      input: z.object({}),
      async run(_input, ctx) {
        await gate;
        ctx.think('still here');
        late = ctx.callTool('add', { a: 1, b: 1 });
        return null;
      },
    });
    const { factory, sink } = testFactory();
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const done = runAgent(scope, zombie, {});
    factory.cancelRun(context.runId);
    const last = await done;
    release();
    await sleep(5);
    expect(await late).toMatchObject({ status: 'cancelled', error: { code: 'RUN_FINISHED' } });
    expect(sink.events(context.runId).at(-1)).toEqual(last);
    expect(factory.stats().contractViolations).toBe(0);
  });
});
