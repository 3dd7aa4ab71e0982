import {
  type AnyAgent,
  createDispatcherFactory,
  createMemorySink,
  type DispatcherLimitsInput,
  defineAgent,
  findOrderingViolations,
  type RunEvent,
  runEventSchema,
} from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  calculatorAgent,
  createBuiltinTools,
  createDemoAgents,
  createInMemoryScratchpad,
  delegateAgent,
  RESEARCH_NOTE_KEY,
  type ScratchpadStore,
} from '../src/index.ts';

// The real dispatcher factory, an in-memory sink and the real tools and agents. Where a test needs
// a research step that hangs, the scratchpad store's `set` waits on a gate the test opens at the end
// (a port wrapper, not a fake dispatcher); one test swaps in a research agent that throws.
function setup(opts: { limits?: DispatcherLimitsInput; agents?: AnyAgent[]; holdScratchpad?: boolean } = {}) {
  const memory = createInMemoryScratchpad();
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const scratchpad: ScratchpadStore = opts.holdScratchpad
    ? { ...memory, set: async (userId, key, value) => gate.then(() => memory.set(userId, key, value)) }
    : memory;
  const tools = createBuiltinTools({
    scratchpad,
    history: { prune: async () => ({ runs: 0, events: 0 }) },
    runControl: { activeRuns: () => [], cancelRun: () => false },
  });
  const sink = createMemorySink();
  const factory = createDispatcherFactory({
    tools,
    agents: opts.agents ?? createDemoAgents(),
    sink,
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const start = (input: unknown) =>
    factory.startRun({ context: factory.createContext({ userId: 'alice' }), agent: 'delegate', input });
  return { factory, sink, memory, start, releaseScratchpad: () => open() };
}

// `type[:tool[:status]]` per event: a compact sequence to compare.
function shapeOf(events: readonly RunEvent[]): string[] {
  return events.map((event) => {
    switch (event.type) {
      case 'tool_executing':
        return `exec:${event.tool}`;
      case 'tool_completed':
        return `done:${event.tool}:${event.status}`;
      case 'agent_completed':
        return `end:${event.status}`;
      case 'agent_started':
      case 'agent_thinking':
        return event.type;
      default: {
        const unreachable: never = event;
        throw new Error(`unexpected event ${JSON.stringify(unreachable)}`);
      }
    }
  });
}

// Bounded wait for a condition on the sink (no fixed sleeps): 200 × 25 ms at most.
async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(check()).toBe(true);
}

const QUESTION = 'How does the circuit breaker work, and what is 5 * 30 and sqrt(144)?';

describe('delegate agent through the real dispatcher factory', () => {
  it('runs research, then calculator, as sub-agents inside its run: one ordered event sequence', {
    timeout: 15_000,
  }, async () => {
    const { start, sink, memory, factory } = setup();
    const handle = start({});
    const last = await handle.done;
    const events = sink.events(handle.runId);
    expect(shapeOf(events)).toEqual([
      'agent_started',
      'agent_thinking', // the plan
      'exec:agent:research',
      'agent_thinking', // research: looking up
      'exec:search',
      'done:search:success',
      'agent_thinking', // research: what matched
      'agent_thinking', // research: saving the note
      'exec:scratchpad',
      'done:scratchpad:success',
      'done:agent:research:success',
      'agent_thinking', // research came back
      'exec:agent:calculator',
      'agent_thinking', // calculator: the expressions it read
      'exec:calculator',
      'done:calculator:success',
      'exec:calculator',
      'done:calculator:success',
      'agent_thinking', // calculator: all computed
      'done:agent:calculator:success',
      'agent_thinking', // the calculator answered
      'agent_thinking', // combining
      'end:completed',
    ]);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    for (const event of events) expect(runEventSchema.safeParse(event).success).toBe(true);
    expect(events.every((event) => event.userId === 'alice' && event.runId === handle.runId)).toBe(true);
    // The run counts the sub-agent calls and the calls they made.
    expect(last.toolCalls).toBe(6);
    expect(factory.liveScopes()).toBe(0);
    // The sub-agent ran in the run owner's name: its note is in alice's scratchpad.
    await expect(memory.get('alice', RESEARCH_NOTE_KEY)).resolves.toMatchObject({
      question: 'how does the circuit breaker work',
    });
  });

  it("combines both sub-agents' results into one answer, each also visible as its call's output", {
    timeout: 15_000,
  }, async () => {
    const { start, sink } = setup();
    const handle = start({ question: QUESTION, maxSources: 2 });
    const last = await handle.done;
    expect(last).toMatchObject({
      status: 'completed',
      result: {
        question: QUESTION,
        research: {
          status: 'success',
          asked: 'how does the circuit breaker work',
          sources: [{ id: 'circuit-breaker' }, { id: 'limits' }],
          note: RESEARCH_NOTE_KEY,
          error: null,
        },
        calculation: {
          status: 'success',
          expressions: ['5 * 30', 'sqrt(144)'],
          answer: '5 * 30 = 150; sqrt(144) = 12',
          results: [
            { expression: '5 * 30', result: 150 },
            { expression: 'sqrt(144)', result: 12 },
          ],
        },
      },
    });
    const result = last.status === 'completed' ? (last.result as { answer: string }) : { answer: '' };
    expect(result.answer).toMatch(/circuit breaker opens.*\[The circuit breaker\]/);
    expect(result.answer).toMatch(/\[Limits and guards\] Arithmetic: 5 \* 30 = 150; sqrt\(144\) = 12\.$/);
    const outputs = sink
      .events(handle.runId)
      .flatMap((event) => (event.type === 'tool_completed' && event.tool.startsWith('agent:') ? [event] : []));
    expect(outputs.map((event) => [event.tool, event.output])).toEqual([
      ['agent:research', expect.objectContaining({ sources: [expect.anything(), expect.anything()] })],
      ['agent:calculator', expect.objectContaining({ answer: '5 * 30 = 150; sqrt(144) = 12' })],
    ]);
  });

  it('reports a sub-agent that times out (TOOL_TIMEOUT) and still completes with the other answer', {
    timeout: 15_000,
  }, async () => {
    // The research agent's note never saves, so the research call passes its subAgentTimeoutMs.
    const { start, sink, releaseScratchpad } = setup({ holdScratchpad: true });
    try {
      const handle = start({ subAgentTimeoutMs: 300 });
      const last = await handle.done;
      expect(last).toMatchObject({
        status: 'completed',
        result: {
          research: { status: 'timeout', summary: null, error: expect.stringContaining('TOOL_TIMEOUT') },
          calculation: { status: 'success', answer: '5 * 30 = 150; sqrt(144) = 12' },
          answer: expect.stringMatching(/^Research did not answer \(timeout \(TOOL_TIMEOUT\).*Arithmetic: /),
        },
      });
      const events = sink.events(handle.runId);
      const shape = shapeOf(events);
      // The hung scratchpad call ends (cancelled) before the research call's own tool_completed.
      const researchDone = shape.indexOf('done:agent:research:timeout');
      expect(shape.indexOf('done:scratchpad:cancelled')).toBeGreaterThan(-1);
      expect(shape.indexOf('done:scratchpad:cancelled')).toBeLessThan(researchDone);
      expect(shape.indexOf('exec:agent:calculator')).toBeGreaterThan(researchDone);
      const thoughts = events.flatMap((event) => (event.type === 'agent_thinking' ? [event.text] : []));
      expect(thoughts).toContainEqual(expect.stringMatching(/^The research sub-agent did not answer: timeout/));
      expect(findOrderingViolations(events, { finished: true })).toEqual([]);
    } finally {
      releaseScratchpad();
    }
  });

  it('reports a refused sub-agent (RATE_LIMITED) and a failing one (AGENT_FAILED) without failing the run', {
    timeout: 15_000,
  }, async () => {
    // Four tokens: the run start, the research call, its search and its note; the calculator call finds none left.
    const limited = setup({ limits: { rateLimit: { user: { capacity: 4, refillPerSecond: 0.001 } } } });
    const refused = await limited.start({}).done;
    expect(refused).toMatchObject({
      status: 'completed',
      result: {
        research: { status: 'success' },
        calculation: { status: 'denied', answer: null, error: expect.stringContaining('RATE_LIMITED') },
        answer: expect.stringMatching(/The arithmetic was not computed \(denied \(RATE_LIMITED\)/),
      },
    });

    // A test-only research agent that throws: the dispatcher reports it as AGENT_FAILED.
    const broken = defineAgent({
      name: 'research',
      description: 'always fails',
      input: z.object({}).passthrough(),
      run: () => {
        throw new Error('the index is gone');
      },
    });
    const failing = setup({ agents: [broken, calculatorAgent, delegateAgent] });
    const handle = failing.start({});
    const last = await handle.done;
    expect(last).toMatchObject({
      status: 'completed',
      result: {
        research: { status: 'error', error: 'error (AGENT_FAILED): the index is gone', sources: [] },
        calculation: { status: 'success' },
        answer:
          'Research did not answer (error (AGENT_FAILED): the index is gone). Arithmetic: 5 * 30 = 150; sqrt(144) = 12.',
      },
    });
    const events = failing.sink.events(handle.runId);
    expect(shapeOf(events).slice(0, 4)).toEqual([
      'agent_started',
      'agent_thinking',
      'exec:agent:research',
      'done:agent:research:error',
    ]);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
  });

  it('a cancel of the parent run ends the sub-agent and its open call, then the run, as cancelled', {
    timeout: 15_000,
  }, async () => {
    const { start, sink, factory, releaseScratchpad } = setup({ holdScratchpad: true });
    try {
      const handle = start({});
      await waitFor(() =>
        sink.events(handle.runId).some((event) => event.type === 'tool_executing' && event.tool === 'scratchpad'),
      );
      expect(factory.cancelRun(handle.runId, 'stop the demo')).toBe(true);
      const last = await handle.done;
      expect(last.status).toBe('cancelled');
      const events = sink.events(handle.runId);
      expect(shapeOf(events).slice(-3)).toEqual([
        'done:scratchpad:cancelled',
        'done:agent:research:cancelled',
        'end:cancelled',
      ]);
      // Nothing after the cancel: no calculator call, no "research did not answer" thought.
      expect(events.some((event) => event.type === 'tool_executing' && event.tool === 'agent:calculator')).toBe(false);
      expect(findOrderingViolations(events, { finished: true })).toEqual([]);
      expect(factory.activeRuns()).toEqual([]);
      expect(factory.liveScopes()).toBe(0);
    } finally {
      releaseScratchpad();
    }
  });
});
