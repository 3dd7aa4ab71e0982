import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, type ToolResult } from './defineAgent.ts';
import type { RunEventBody } from './events.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import { type DeadlineEntry, RunDeadlines } from './limits/RunDeadlines.ts';
import { acceptMinted, RunStateMachine } from './RunStateMachine.ts';
import { redact } from './redact.ts';
import { runAgent } from './runAgent.ts';
import { createWallClockAt } from './systemClock.ts';
import { contextFor, manualClock, shape, sleep, testFactory, waitFor } from './testSupport.ts';

// What a live run no longer allocates (see README, "Performance"): each keeps the behaviour it replaced.
describe('per-run bookkeeping without per-run timers, closures or copies', () => {
  function entry(name: string, fired: string[]): DeadlineEntry {
    return {
      deadlineAt: 0,
      prevDeadline: undefined,
      nextDeadline: undefined,
      deadlinePassed: () => fired.push(name),
    };
  }

  it('fires every deadline of a factory behind one timer, earliest first whatever the order added, never a removed one', async () => {
    const list = new RunDeadlines();
    const fired: string[] = [];
    const late = entry('late', fired);
    const early = entry('early', fired);
    const middle = entry('middle', fired);
    const removed = entry('removed', fired);
    list.add(late, 30);
    list.add(removed, 5);
    list.add(middle, 15);
    list.add(early, 1);
    list.remove(removed);
    list.remove(removed);
    await waitFor(() => fired.length === 3, 5_000);
    expect(fired).toEqual(['early', 'middle', 'late']);
    // Unlinked as they fire: removing them again is a no-op, and the list can be reused.
    list.remove(late);
    list.add(removed, 1);
    await waitFor(() => fired.length === 4, 5_000);
    expect(fired.at(-1)).toBe('removed');
  });

  it('ends each of several concurrent runs at its own deadline, and no run that closed before it', async () => {
    const { factory, sink, metrics } = testFactory({ limits: { runDeadlineMs: 200 } });
    const hanging = [contextFor(), contextFor(), contextFor()];
    const quick = contextFor();
    const scopes = hanging.map((context) => factory.forRequest(context));
    const pending: Promise<ToolResult>[] = [];
    for (const scope of scopes) {
      pending.push(scope.execute('block', {}));
      await sleep(5);
    }
    // Opened among the others and closed long before its deadline.
    const quickScope = factory.forRequest(quick);
    await quickScope.execute('add', { a: 1, b: 2 });
    await quickScope[Symbol.asyncDispose]();
    for (const result of await Promise.all(pending)) {
      expect(result).toMatchObject({ status: 'timeout', error: { code: 'RUN_DEADLINE' } });
    }
    for (const context of hanging) {
      expect(sink.events(context.runId).at(-1)).toMatchObject({ status: 'failed', error: { code: 'RUN_DEADLINE' } });
    }
    expect(sink.events(quick.runId).at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
    expect(metrics.snapshot().limitHits.RUN_DEADLINE).toBe(3);
    await Promise.all(scopes.map((scope) => scope[Symbol.asyncDispose]()));
    expect(factory.liveScopes()).toBe(0);
  });

  it('checks the uniqueness of the package’s own call ids by number, and of other ids by value', () => {
    const machine = new RunStateMachine();
    machine.accept({ type: 'agent_started' });
    const executing = (callId: string): RunEventBody => ({ type: 'tool_executing', callId, tool: 't', input: null });
    expect(acceptMinted(machine, executing('call_a'), 7)).toBeUndefined();
    expect(acceptMinted(machine, executing('call_b'), 9)).toBeUndefined();
    expect(acceptMinted(machine, executing('call_b'), 9)?.rule).toBe('call_id_unique');
    expect(acceptMinted(machine, executing('call_x'), 8)?.rule).toBe('call_id_unique');
    expect(machine.accept(executing('mine'))).toBeUndefined();
    expect(machine.accept(executing('mine'))?.rule).toBe('call_id_unique');
    // Open calls are still tracked in order, and closed by id.
    expect(machine.openCalls().map((c) => c.callId)).toEqual(['call_a', 'call_b', 'mine']);
    expect(machine.accept({ type: 'tool_completed', callId: 'call_b' })).toBeUndefined();
    expect(machine.accept({ type: 'tool_completed', callId: 'call_a' })).toBeUndefined();
    expect(machine.openCalls()).toEqual([{ callId: 'mine', tool: 't' }]);
    expect(machine.accept({ type: 'agent_completed' })?.rule).toBe('calls_closed_before_agent_completed');
    expect(machine.accept({ type: 'tool_completed', callId: 'mine' })).toBeUndefined();
    expect(machine.accept({ type: 'agent_completed' })).toBeUndefined();
  });

  it('gives each call of a run a distinct id, over many calls in parallel and in sequence', async () => {
    const { factory, sink, metrics } = testFactory();
    const context = contextFor();
    const scope = factory.forRequest(context);
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 5 }, (_, i) => scope.execute('add', { a: round, b: i })));
    }
    await scope[Symbol.asyncDispose]();
    const events = sink.events(context.runId);
    const ids = events.flatMap((e) => (e.type === 'tool_executing' ? [e.callId] : []));
    expect(new Set(ids).size).toBe(100);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    expect(metrics.snapshot().contractViolations).toBe(0);
  });

  it('lets an agent destructure think and callTool, and its context’s hooks do nothing in its hands', async () => {
    let sameFunctions = false;
    const destructuring = defineAgent({
      name: 'destructuring',
      description: 'Uses think and callTool detached from its context, and pokes at the context',
      input: z.object({}),
      async run(_input, ctx) {
        const { think, callTool } = ctx;
        sameFunctions = ctx.think === think && ctx.callTool === callTool;
        think('one');
        const hooks = ctx as unknown as { aborted(): void; handleEvent(): void; begin?: unknown };
        hooks.aborted();
        hooks.handleEvent();
        const result = await callTool('add', { a: 1, b: 2 });
        think('two');
        return { status: result.status, begin: typeof hooks.begin };
      },
    });
    const { factory, sink } = testFactory();
    const context = contextFor();
    await using scope = factory.forRequest(context);
    const last = await runAgent(scope, destructuring, {}, { signal: new AbortController().signal });
    expect(last).toMatchObject({ status: 'completed', result: { status: 'success', begin: 'undefined' } });
    expect(sameFunctions).toBe(true);
    expect(shape(sink.events(context.runId))).toEqual([
      'agent_started',
      'agent_thinking',
      'tool_executing:add',
      'tool_completed:add:success',
      'agent_thinking',
      'agent_completed:completed',
    ]);
  });

  it('releases a detached run’s scope before the run’s done resolves', async () => {
    const { factory } = testFactory();
    const handle = factory.startRun({ context: contextFor(), agent: 'planner', input: { n: 1 } });
    const liveWhenDone = await handle.done.then(() => factory.liveScopes());
    expect(liveWhenDone).toBe(0);
  });

  it('derives wall-clock times from monotonic readings, following the wall clock when it is set', () => {
    let wallMs = 1_700_000_000_000;
    let monoMs = 50.75;
    const origin = wallMs - monoMs + 0.4;
    const wallAt = createWallClockAt(
      () => wallMs,
      () => monoMs,
      origin,
      1_000,
    );
    // What `now()` would have said at that reading: the integer part of origin + reading.
    expect(wallAt(monoMs)).toBe(Math.floor(origin + monoMs));
    expect(wallAt(monoMs + 10.3)).toBe(Math.floor(origin + monoMs + 10.3));
    // The wall clock is set an hour ahead: readings within the resync interval keep the old origin,
    // later ones follow the new wall time.
    wallMs += 3_600_000 + 500;
    monoMs += 500;
    expect(wallAt(monoMs)).toBe(Math.floor(origin + monoMs));
    monoMs += 1_000;
    wallMs += 1_000;
    expect(wallAt(monoMs)).toBe(wallMs);
    expect(wallAt(monoMs + 2.5)).toBe(wallMs + 2);
  });

  it('stamps the events of a run with the wall time, never going back, and still asks an injected clock', async () => {
    const { factory, sink } = testFactory();
    const context = contextFor();
    const before = Date.now();
    const scope = factory.forRequest(context);
    for (let i = 0; i < 50; i++) await scope.execute('add', { a: i, b: 1 });
    await scope[Symbol.asyncDispose]();
    const after = Date.now();
    const times = sink.events(context.runId).map((e) => Date.parse(e.at));
    expect(times.every((t, i) => i === 0 || t >= (times[i - 1] as number))).toBe(true);
    // Between the wall clock before and after, give or take the 1 ms the two clocks may differ by.
    expect(Math.min(...times)).toBeGreaterThanOrEqual(before - 1);
    expect(Math.max(...times)).toBeLessThanOrEqual(after + 1);
    const clock = manualClock(Date.UTC(2030, 0, 1));
    const manual = testFactory({ clock });
    const scoped = manual.factory.forRequest(contextFor());
    await scoped.execute('add', { a: 1, b: 1 });
    await scoped[Symbol.asyncDispose]();
    expect(new Set(manual.sink.events().map((e) => e.at))).toEqual(new Set(['2030-01-01T00:00:00.000Z']));
  });

  it('copies plain objects in one pass with every rule kept: null prototypes, toJSON, cycles through arrays, secrets', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, secret: 's' });
    const dated = { toJSON: () => ({ when: 'then', token: 't' }) };
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.list = [loop, { ok: true }];
    const out = redact({ bare, dated, loop, deep: { inner: { password: 'p', n: Number.NaN } } }) as Record<
      string,
      unknown
    >;
    expect(out).toEqual({
      bare: { a: 1, secret: '[REDACTED]' },
      dated: { when: 'then', token: '[REDACTED]' },
      loop: { name: 'loop', list: ['[CIRCULAR]', { ok: true }] },
      deep: { inner: { password: '[REDACTED]', n: null } },
    });
    expect(Object.isFrozen(out.bare)).toBe(true);
    expect(Object.isFrozen((out.deep as { inner: object }).inner)).toBe(true);
  });
});
