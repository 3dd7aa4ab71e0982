import {
  createDispatcherFactory,
  createMemorySink,
  type DispatcherFactory,
  type DispatcherLimitsInput,
  findOrderingViolations,
  type MemorySink,
  RUN_EVENT_TYPES,
  type RunEvent,
  runEventSchema,
} from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import {
  createBuiltinTools,
  createDemoAgents,
  createInMemoryScratchpad,
  DEMO_AGENT_NAMES,
  RESEARCH_NOTE_KEY,
  TRANSFERS_KEY,
} from '../src/index.ts';

// The real dispatcher factory, an in-memory sink and the real tools and agents: nothing stands in here.
function setup(limits?: DispatcherLimitsInput) {
  const scratchpad = createInMemoryScratchpad();
  const sink = createMemorySink();
  let factory: DispatcherFactory | undefined;
  const purges: number[] = [];
  const tools = createBuiltinTools({
    scratchpad,
    history: {
      prune: async ({ olderThanMs }) => {
        purges.push(olderThanMs);
        return { runs: 0, events: 0 };
      },
    },
    runControl: {
      activeRuns: () => factory?.activeRuns() ?? [],
      cancelRun: (runId, reason) => factory?.cancelRun(runId, reason) ?? false,
    },
  });
  const created = createDispatcherFactory({ tools, agents: createDemoAgents(), sink, ...(limits ? { limits } : {}) });
  factory = created;
  const start = (agent: string, input: unknown, opts: { userId?: string; admin?: boolean } = {}) =>
    created.startRun({
      context: created.createContext({
        userId: opts.userId ?? 'alice',
        roles: opts.admin ? ['user', 'admin'] : ['user'],
      }),
      agent,
      input,
    });
  return { factory: created, sink, scratchpad, purges, start };
}

/** The id of the run's first requested approval, once its event is in the sink. */
async function nextApproval(sink: MemorySink, runId: string): Promise<string> {
  const find = () => sink.events(runId).find((e) => e.type === 'agent_thinking' && e.approval?.state === 'requested');
  await waitFor(() => find() !== undefined);
  const event = find();
  return event?.type === 'agent_thinking' ? (event.approval?.id ?? '') : '';
}

async function approveNext(sink: MemorySink, runId: string, factory: DispatcherFactory): Promise<void> {
  const approvalId = await nextApproval(sink, runId);
  await factory.approvals.decide({ approvalId, decision: 'approve', by: { userId: 'alice', roles: ['user'] } });
}

/** The first appearance of each event type, in order. */
function typeOrder(events: readonly RunEvent[]): string[] {
  return [...new Set(events.map((event) => event.type))];
}

// Bounded wait for a condition on the sink (no fixed sleeps): 200 × 25 ms at most.
async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(check()).toBe(true);
}

describe('demo agents through the real dispatcher factory', () => {
  it.each(DEMO_AGENT_NAMES)(
    '%s emits all five event types, in order, and completes',
    { timeout: 15_000 },
    async (name) => {
      const { start, sink, factory } = setup();
      const input = name === 'slow' ? { steps: 3, delayMs: 10 } : {};
      const handle = start(name, input, { admin: name === 'admin' });
      // payout's transfer waits for the owner's approval: the owner approves it.
      if (name === 'payout') await approveNext(sink, handle.runId, factory);
      const last = await handle.done;
      const events = sink.events(handle.runId);
      expect(last).toMatchObject({ type: 'agent_completed', status: 'completed' });
      expect(typeOrder(events)).toEqual([...RUN_EVENT_TYPES]);
      expect(findOrderingViolations(events)).toEqual([]);
      for (const event of events) expect(runEventSchema.safeParse(event).success).toBe(true);
      expect(last.toolCalls).toBe(events.filter((event) => event.type === 'tool_executing').length);
    },
  );

  it('payout: the transfer runs once when the owner approves it and never when denied; it is recorded in the scratchpad', async () => {
    const { start, sink, factory, scratchpad } = setup();
    const approved = start('payout', { amount: 12 });
    await approveNext(sink, approved.runId, factory);
    expect(await approved.done).toMatchObject({ status: 'completed', result: { transferred: true, amount: 12 } });
    const denied = start('payout', { amount: 99 });
    const id = await nextApproval(sink, denied.runId);
    await factory.approvals.decide({ approvalId: id, decision: 'deny', by: { userId: 'alice', roles: ['user'] } });
    expect(await denied.done).toMatchObject({
      status: 'completed',
      result: { transferred: false, reason: 'APPROVAL_DENIED' },
    });
    const transfers = await scratchpad.get('alice', TRANSFERS_KEY);
    expect(transfers).toEqual([expect.objectContaining({ amount: 12, to: 'bob' })]);
  });

  it('lists the eight demo agents in the registry, admin restricted to admins', () => {
    const { factory } = setup();
    expect(factory.agents.list().map((agent) => agent.name)).toEqual([...DEMO_AGENT_NAMES]);
    expect(factory.agents.listFor(['user']).map((agent) => agent.name)).not.toContain('admin');
    expect(() => setup().start('admin', {})).toThrow(expect.objectContaining({ code: 'ACCESS_DENIED' }));
  });

  it('flaky: the breaker opens after five failures and the agent counts the refusals', {
    timeout: 15_000,
  }, async () => {
    const { start, sink } = setup({ circuitBreaker: { failureThreshold: 5 } });
    const handle = start('flaky', {});
    const last = await handle.done;
    expect(last).toMatchObject({
      status: 'completed',
      result: { calls: 12, succeeded: 0, failed: 5, circuitOpen: 7 },
    });
    const completed = sink.events(handle.runId).flatMap((event) => (event.type === 'tool_completed' ? [event] : []));
    expect(
      completed.slice(0, 5).every((event) => event.status === 'error' && event.error?.code === 'TOOL_FAILED'),
    ).toBe(true);
    expect(completed.slice(5).every((event) => event.error?.code === 'CIRCUIT_OPEN')).toBe(true);
  });

  it('slow: a cancel ends the tool call and the run as cancelled', { timeout: 15_000 }, async () => {
    const { start, sink, factory } = setup();
    const handle = start('slow', {});
    await waitFor(() => sink.events(handle.runId).some((event) => event.type === 'tool_executing'));
    expect(factory.cancelRun(handle.runId, 'demo cancel')).toBe(true);
    const last = await handle.done;
    expect(last.status).toBe('cancelled');
    expect(sink.events(handle.runId)).toContainEqual(
      expect.objectContaining({ type: 'tool_completed', tool: 'slow_task', status: 'cancelled' }),
    );
    expect(factory.liveScopes()).toBe(0);
  });

  it("admin: lists another user's active run and cancels it", { timeout: 15_000 }, async () => {
    const { start, sink } = setup();
    const victim = start('slow', {}, { userId: 'bob-1234' });
    await waitFor(() => sink.events(victim.runId).some((event) => event.type === 'tool_executing'));
    const admin = start(
      'admin',
      { cancelRunId: victim.runId, purgeOlderThanMs: 60_000 },
      { userId: 'root-admin', admin: true },
    );
    const last = await admin.done;
    expect(last).toMatchObject({
      status: 'completed',
      result: {
        active: expect.arrayContaining([
          expect.objectContaining({ runId: victim.runId, userId: 'bob-1234', agent: 'slow' }),
        ]),
        cancel: { runId: victim.runId, cancelled: true },
      },
    });
    await expect(victim.done).resolves.toMatchObject({ status: 'cancelled' });
    // Only the victim's own events carry its userId: the admin's run reports about it, as the admin.
    expect(sink.events(admin.runId).every((event) => event.userId === 'root-admin')).toBe(true);
  });

  it('a user who is not an admin is denied the admin tools by the dispatcher', { timeout: 15_000 }, async () => {
    const { factory } = setup();
    await using scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
    const result = await scope.execute('list_active_runs', {});
    expect(result).toMatchObject({ status: 'denied', error: { code: 'ACCESS_DENIED' } });
  });

  it('research: concurrent runs of two users each write only their own scratchpad note', {
    timeout: 15_000,
  }, async () => {
    const { start, scratchpad } = setup();
    const alice = start('research', { question: 'What is the circuit breaker?' }, { userId: 'alice' });
    const bob = start('research', { question: 'How does resume work?' }, { userId: 'bob-1234' });
    await Promise.all([alice.done, bob.done]);
    await expect(scratchpad.get('alice', RESEARCH_NOTE_KEY)).resolves.toMatchObject({
      question: 'What is the circuit breaker?',
    });
    await expect(scratchpad.get('bob-1234', RESEARCH_NOTE_KEY)).resolves.toMatchObject({
      question: 'How does resume work?',
    });
  });

  it('parallel: the tool calls overlap in one run and seq still orders every event', { timeout: 15_000 }, async () => {
    const { start, sink } = setup();
    const handle = start('parallel', {});
    await handle.done;
    const events = sink.events(handle.runId);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, i) => i + 1));
    // The slow task is still in flight while every other call starts and finishes.
    const slowDone = events.findIndex((event) => event.type === 'tool_completed' && event.tool === 'slow_task');
    const executing = events.flatMap((event, i) => (event.type === 'tool_executing' ? [i] : []));
    expect(executing).toHaveLength(6);
    expect(executing.every((index) => index < slowDone)).toBe(true);
  });
});
