import type { ToolResult } from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { standInAgentContext } from '../../test/support/standInAgentContext.ts';
import { createBuiltinTools } from '../createBuiltinTools.ts';
import { createDemoAgents, DEMO_AGENT_NAMES } from '../createDemoAgents.ts';
import { createInMemoryScratchpad } from '../createInMemoryScratchpad.ts';
import type { ActiveRunInfo } from '../ports.ts';
import { adminAgent } from './admin.ts';
import { flakyAgent } from './flaky.ts';
import { parallelAgent } from './parallel.ts';
import { slowAgent } from './slow.ts';

function tools(activeRuns: ActiveRunInfo[] = []) {
  const cancelled: string[] = [];
  const list = createBuiltinTools({
    scratchpad: createInMemoryScratchpad(),
    runControl: {
      activeRuns: () => activeRuns,
      cancelRun: (runId) => {
        cancelled.push(runId);
        return activeRuns.some((run) => run.runId === runId);
      },
    },
    history: { prune: async () => ({ runs: 2, events: 9 }) },
  });
  return { list, cancelled };
}

const thoughts = (events: { type: string; text?: string }[]) =>
  events.flatMap((event) => (event.type === 'agent_thinking' && event.text !== undefined ? [event.text] : []));

describe('createDemoAgents', () => {
  it('returns the seven demo agents by their exact names, only admin restricted', () => {
    const agents = createDemoAgents();
    expect(agents.map((agent) => agent.name)).toEqual([...DEMO_AGENT_NAMES]);
    expect(agents.filter((agent) => agent.access === 'admin').map((agent) => agent.name)).toEqual(['admin']);
  });

  it('starts every agent with {} and every one thinks, calls a tool and completes (stand-in scope)', async () => {
    for (const agent of createDemoAgents()) {
      const { ctx, events } = standInAgentContext({
        tools: tools().list,
        roles: ['user', 'admin'],
        agents: createDemoAgents(),
      });
      const input = agent.input.parse(agent.name === 'slow' ? { steps: 2, delayMs: 1 } : {});
      await agent.run(input, ctx);
      const types = new Set(events.map((event) => event.type));
      expect([agent.name, ...types]).toEqual([agent.name, 'agent_thinking', 'tool_executing', 'tool_completed']);
    }
  });
});

describe('parallel agent', () => {
  it('starts every call before any has finished, then reports each outcome in order', async () => {
    const { ctx, events } = standInAgentContext({ tools: tools().list });
    const result = await parallelAgent.run(parallelAgent.input.parse({}), ctx);
    const firstCompleted = events.findIndex((event) => event.type === 'tool_completed');
    const executing = events.filter((event) => event.type === 'tool_executing');
    expect(executing).toHaveLength(6);
    expect(events.slice(0, firstCompleted).filter((event) => event.type === 'tool_executing')).toHaveLength(6);
    expect(result).toMatchObject({
      succeeded: 6,
      failed: 0,
      calls: [
        { tool: 'slow_task', summary: '3 steps done' },
        { tool: 'search', summary: 'best match "The five lifecycle events"' },
        { tool: 'search', summary: 'best match "Isolation between users"' },
        { tool: 'search', summary: 'best match "The circuit breaker"' },
        { tool: 'calculator', summary: '= 1024' },
        { tool: 'calculator', summary: '= 141.421356237' },
      ],
    });
  });

  it('reports a failed call among the successes instead of failing the run', async () => {
    const { ctx, events } = standInAgentContext({ tools: tools().list });
    const result = await parallelAgent.run(
      parallelAgent.input.parse({ topics: [], expressions: ['1/0', '1+1'], slowSteps: 0 }),
      ctx,
    );
    expect(result).toMatchObject({ succeeded: 1, failed: 1, calls: [{ status: 'error' }, { status: 'success' }] });
    expect(thoughts(events).at(-1)).toContain('1 did not');
  });
});

describe('flaky agent', () => {
  it('counts the calls that fail inside the tool and those the open circuit refuses', async () => {
    let failures = 0;
    // The stand-in has no breaker: emulate one of threshold 5 the way the dispatcher reports it.
    const { ctx, events } = standInAgentContext({
      tools: tools().list,
      intercept: (_tool, _input, callId): ToolResult | undefined =>
        failures >= 5
          ? { callId, status: 'denied', error: { code: 'CIRCUIT_OPEN', message: 'circuit open' }, durationMs: 0 }
          : undefined,
    });
    const original = ctx.callTool;
    const counting = {
      ...ctx,
      callTool: async (name: string, input: unknown) => {
        const result = await original(name, input);
        if (result.status === 'error' && result.error.code === 'TOOL_FAILED') failures += 1;
        return result;
      },
    };
    const result = await flakyAgent.run(flakyAgent.input.parse({}), counting);
    expect(result).toEqual({
      calls: 12,
      succeeded: 0,
      failed: 5,
      circuitOpen: 7,
      other: 0,
      outcomes: [...Array(5).fill('failed'), ...Array(7).fill('circuit_open')],
    });
    expect(thoughts(events)).toContainEqual(
      expect.stringMatching(/^Call 6 was refused with CIRCUIT_OPEN after 5 failures/),
    );
  });

  it('repeats exactly for the same seed', async () => {
    const run = async () => {
      const { ctx } = standInAgentContext({ tools: tools().list });
      return flakyAgent.run(flakyAgent.input.parse({ calls: 20, failureRate: 0.5, seed: 99 }), ctx);
    };
    const first = await run();
    expect(first).toMatchObject({ circuitOpen: 0 });
    expect(await run()).toEqual(first);
  });
});

describe('slow agent', () => {
  it('reports the finished task', async () => {
    const { ctx } = standInAgentContext({ tools: tools().list });
    await expect(slowAgent.run(slowAgent.input.parse({ steps: 3, delayMs: 1 }), ctx)).resolves.toMatchObject({
      finished: true,
      steps: 3,
    });
  });

  it('ends with the cancel reason, not a completed result, when the run is cancelled', {
    timeout: 10_000,
  }, async () => {
    const controller = new AbortController();
    const { ctx, events } = standInAgentContext({ tools: tools().list, signal: controller.signal });
    const pending = slowAgent.run(slowAgent.input.parse({}), ctx);
    setTimeout(() => controller.abort(new Error('user cancelled')), 20);
    await expect(pending).rejects.toThrow('user cancelled');
    expect(events.at(-1)).toMatchObject({ type: 'tool_completed', result: { status: 'cancelled' } });
  });

  it("bounds the total time so its slow_task always fits the tool's timeout", () => {
    expect(slowAgent.input.safeParse({ steps: 100, delayMs: 5_000 }).success).toBe(false);
  });
});

describe('admin agent', () => {
  const runs: ActiveRunInfo[] = [
    { runId: 'run-1', userId: 'alice', agent: 'slow', startedAt: '2026-01-01T00:00:00.000Z' },
    { runId: 'run-2', userId: 'bob-1234', agent: 'slow', startedAt: '2026-01-01T00:00:01.000Z' },
  ];

  it('is admin only', () => {
    expect(adminAgent.access).toBe('admin');
  });

  it('lists the active runs, cancels the named one and purges history', async () => {
    const { list, cancelled } = tools(runs);
    const { ctx, events } = standInAgentContext({ tools: list, userId: 'root-admin', roles: ['user', 'admin'] });
    const result = await adminAgent.run(adminAgent.input.parse({ cancelRunId: 'run-2', purgeOlderThanMs: 1_000 }), ctx);
    expect(cancelled).toEqual(['run-2']);
    expect(result).toMatchObject({
      active: runs,
      cancel: { runId: 'run-2', cancelled: true },
      purge: { runs: 2, events: 9 },
    });
    expect(thoughts(events)).toContain('2 other runs are active (2 × slow) across 2 user(s).');
  });

  it('explains a denial instead of crashing when run without the admin role', async () => {
    const { ctx, events } = standInAgentContext({ tools: tools(runs).list });
    const result = await adminAgent.run(adminAgent.input.parse({}), ctx);
    expect(result).toEqual({ active: null });
    expect(thoughts(events).at(-1)).toMatch(/^Could not list the active runs: denied \(ACCESS_DENIED\)/);
  });
});
