import { type AnyAgent, defineAgent } from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { standInAgentContext } from '../../test/support/standInAgentContext.ts';
import { createBuiltinTools } from '../createBuiltinTools.ts';
import { createInMemoryScratchpad } from '../createInMemoryScratchpad.ts';
import { calculatorAgent } from './calculator.ts';
import { delegateAgent } from './delegate.ts';
import { researchAgent } from './research.ts';

// The stand-in scope (test/support/standInAgentContext.ts): these tests cover the delegate's own
// planning and reading of results; test/delegateAgent.integration.test.ts runs it through the real factory.
function setup(agents: readonly AnyAgent[] = [researchAgent, calculatorAgent]) {
  const tools = createBuiltinTools({
    scratchpad: createInMemoryScratchpad(),
    runControl: { activeRuns: () => [], cancelRun: () => false },
    history: { prune: async () => ({ runs: 0, events: 0 }) },
  });
  return standInAgentContext({ tools, agents });
}

const agentCalls = (events: { type: string; tool?: string }[]) =>
  events.flatMap((event) => (event.type === 'tool_executing' && event.tool?.startsWith('agent:') ? [event.tool] : []));

describe('delegate agent', () => {
  it('fails at once with a clear error when the context has no callAgent (a hand-made stand-in)', async () => {
    const { ctx, events } = standInAgentContext({ tools: [] });
    expect(ctx.callAgent).toBeUndefined();
    await expect(delegateAgent.run(delegateAgent.input.parse({}), ctx)).rejects.toMatchObject({
      code: 'AGENT_FAILED',
      message: expect.stringContaining('no callAgent'),
      details: { reason: 'no_sub_agents' },
    });
    expect(events).toEqual([]);
  });

  it('sends the words to research and the whole question to the calculator, then combines both', async () => {
    const { ctx, events } = setup();
    const result = await delegateAgent.run(delegateAgent.input.parse({ saveNote: false }), ctx);
    expect(agentCalls(events)).toEqual(['agent:research', 'agent:calculator']);
    const executing = (tool: string) => events.find((event) => event.type === 'tool_executing' && event.tool === tool);
    expect(executing('agent:research')).toMatchObject({
      input: { question: 'how does the circuit breaker work', maxSources: 3, saveNote: false },
    });
    expect(executing('agent:calculator')).toMatchObject({
      input: { question: 'How does the circuit breaker work, and what is 5 * 30 and sqrt(144)?' },
    });
    expect(result).toMatchObject({
      research: {
        status: 'success',
        sources: [{ id: 'circuit-breaker' }, { id: 'limits' }, expect.anything()],
        error: null,
      },
      calculation: { status: 'success', expressions: ['5 * 30', 'sqrt(144)'], answer: '5 * 30 = 150; sqrt(144) = 12' },
    });
    const answer = (result as { answer: string }).answer;
    expect(answer).toContain('[The circuit breaker]');
    expect(answer).toMatch(/Arithmetic: 5 \* 30 = 150; sqrt\(144\) = 12\.$/);
  });

  it('asks only the sub-agent a question needs: no research for bare arithmetic, no calculator without numbers', async () => {
    const arithmetic = setup();
    const sums = await delegateAgent.run(delegateAgent.input.parse({ question: '2^10 plus 1' }), arithmetic.ctx);
    expect(agentCalls(arithmetic.events)).toEqual(['agent:calculator']);
    expect(sums).toMatchObject({ research: { status: 'skipped' }, answer: 'Arithmetic: 2^10 + 1 = 1025.' });

    const words = setup();
    const prose = await delegateAgent.run(
      delegateAgent.input.parse({ question: 'How are runs cancelled?', saveNote: false }),
      words.ctx,
    );
    expect(agentCalls(words.events)).toEqual(['agent:research']);
    expect(prose).toMatchObject({ research: { status: 'success' }, calculation: { status: 'skipped', answer: null } });
  });

  it('reports a sub-agent that answers with an unexpected shape, and still answers the rest', async () => {
    const odd = defineAgent({
      name: 'research',
      description: 'returns something else',
      input: z.object({}).passthrough(),
      run: () => ({ hello: 'world' }),
    });
    const { ctx, events } = setup([odd, calculatorAgent]);
    const result = await delegateAgent.run(delegateAgent.input.parse({}), ctx);
    expect(result).toMatchObject({
      research: { status: 'success', summary: null, error: 'it returned output of an unexpected shape' },
      calculation: { status: 'success' },
    });
    expect((result as { answer: string }).answer).toMatch(/^Research did not answer \(it returned output/);
    const thoughts = events.flatMap((event) => (event.type === 'agent_thinking' ? [event.text] : []));
    expect(thoughts.some((text) => text.startsWith('The research sub-agent did not answer'))).toBe(true);
  });
});
