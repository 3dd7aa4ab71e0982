import type { RunEvent } from '@toolrun/dispatcher';
import { TRPCError } from '@trpc/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createContext } from '../context.ts';
import { appRouter } from '../root.ts';
import type { ToolrunServices } from '../services.ts';
import { createToolrunServices } from '../services.ts';
import { createCallerFactory } from '../trpc.ts';

const SECRET = 'a-secret-for-the-tools-run-tests-0123456789';
const createCaller = createCallerFactory(appRouter);
let services: ToolrunServices | undefined;

afterEach(async () => {
  await services?.drain({ graceMs: 1_000 });
  services?.close();
  services = undefined;
});

async function callerFor(userId: string, role: 'user' | 'admin' = 'user') {
  services ??= await createToolrunServices({ database: ':memory:', auth: { mode: 'dev', secret: SECRET } });
  const { token } = await services.auth.issue({ userId, roles: [role] });
  return createCaller(await createContext({ services, authorization: `Bearer ${token}` }));
}

async function eventsOf(caller: Awaited<ReturnType<typeof callerFor>>, runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const message of await caller.runs.events({ runId })) {
    // A server-side caller yields tracked envelopes as [id, events] tuples, whatever its type says.
    const raw: unknown = message;
    events.push(...(Array.isArray(raw) ? (raw[1] as RunEvent[]) : message.data));
  }
  return events;
}

async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
  return 'OK';
}

describe('tools.run', () => {
  it("runs one tool as a one-call run of the caller, with the run's events in their order, in the caller's history", async () => {
    const alice = await callerFor('alice');
    const { runId, threadId } = await alice.tools.run({ tool: 'calculator', input: { expression: '6*7' } });
    const events = await eventsOf(alice, runId);
    expect(events.map((e) => e.type)).toEqual(['agent_started', 'tool_executing', 'tool_completed', 'agent_completed']);
    expect(events[0]).toMatchObject({ agent: '(direct)', userId: 'alice', threadId });
    expect(events[1]).toMatchObject({ tool: 'calculator', input: { expression: '6*7' } });
    expect(events[2]).toMatchObject({ status: 'success', output: expect.objectContaining({ result: 42 }) });
    expect(events[3]).toMatchObject({ status: 'completed', toolCalls: 1 });
    const { items } = await alice.runs.list({ limit: 10 });
    expect(items.map((r) => r.id)).toEqual([runId]);
  });

  it('shows a bad input as the call failing with INVALID_INPUT inside the run', async () => {
    const alice = await callerFor('alice');
    const { runId } = await alice.tools.run({ tool: 'calculator', input: { expression: 42 } });
    const completed = (await eventsOf(alice, runId)).find((e) => e.type === 'tool_completed');
    expect(completed).toMatchObject({ status: 'error', error: { code: 'INVALID_INPUT' } });
  });

  it('refuses an unknown tool and an admin tool for a user with NOT_FOUND before any run exists', async () => {
    const alice = await callerFor('alice');
    expect(await refusal(alice.tools.run({ tool: 'no_such_tool', input: {} }))).toBe('NOT_FOUND');
    const adminTool = services?.factory.tools.list().find((t) => t.access === 'admin');
    expect(adminTool).toBeDefined();
    expect(await refusal(alice.tools.run({ tool: adminTool?.name ?? '', input: {} }))).toBe('NOT_FOUND');
    expect((await alice.runs.list({ limit: 10 })).items).toEqual([]);
  });

  it('cancels through runs.cancel: the run ends cancelled with every event, and another user cannot see or cancel it', async () => {
    const alice = await callerFor('alice');
    const bob = await callerFor('bob');
    const { runId } = await alice.tools.run({ tool: 'slow_task', input: { steps: 50, delayMs: 100 } });
    expect(await refusal(bob.runs.cancel({ runId }))).toBe('NOT_FOUND');
    expect(await refusal(bob.runs.get({ runId }))).toBe('NOT_FOUND');
    expect((await alice.runs.cancel({ runId })).cancelled).toBe(true);
    const events = await eventsOf(alice, runId);
    expect(events.at(-2)).toMatchObject({ type: 'tool_completed', status: 'cancelled' });
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'cancelled' });
  });

  it('refuses an input over the size limit with BAD_REQUEST', async () => {
    const alice = await callerFor('alice');
    const big = 'x'.repeat(70_000);
    expect(await refusal(alice.tools.run({ tool: 'calculator', input: { expression: big } }))).toBe('BAD_REQUEST');
  });
});

/** Records what runs.cancel asks beyond finding the run: the starter (is it queued?) and the cancel switch. */
function watchCancelQuestions(s: ToolrunServices): string[] {
  const asked: string[] = [];
  const { starter } = s;
  const cancelQueued = starter.cancelQueued.bind(starter);
  starter.cancelQueued = (runId, reason) => {
    asked.push('cancelQueued');
    return cancelQueued(runId, reason);
  };
  const cancelRun = s.cancelRun.bind(s);
  Object.assign(s, {
    cancelRun: (runId: string, reason: string) => {
      asked.push('cancelRun');
      return cancelRun(runId, reason);
    },
  });
  return asked;
}

// In cluster mode each question is a round trip to PostgreSQL or Redis under load: a cancel asks only
// what the run's state leaves open.
describe('runs.cancel asks only what it must', () => {
  it('answers a run that ended with cancelled: false at once, asking neither the starter nor the cancel switch', async () => {
    const alice = await callerFor('alice');
    const asked = watchCancelQuestions(services as ToolrunServices);
    const { runId } = await alice.runs.start({ agent: 'calculator', input: { question: 'What is 6*7?' } });
    expect((await eventsOf(alice, runId)).at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
    expect(await alice.runs.cancel({ runId })).toEqual({ runId, cancelled: false });
    expect(asked).toEqual([]);
  });

  it('cancels a run under way (its start committed) through the cancel switch without asking whether it is queued', async () => {
    const alice = await callerFor('alice');
    const asked = watchCancelQuestions(services as ToolrunServices);
    // runs.start answers once the run's agent_started is committed.
    const { runId } = await alice.runs.start({ agent: 'slow', input: { steps: 50, delayMs: 100 } });
    expect(await alice.runs.cancel({ runId })).toEqual({ runId, cancelled: true });
    expect(asked).toEqual(['cancelRun']);
    expect((await eventsOf(alice, runId)).at(-1)).toMatchObject({ type: 'agent_completed', status: 'cancelled' });
  });
});
