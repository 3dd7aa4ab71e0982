import { describe, expect, it } from 'vitest';
import { standInAgentContext } from '../../test/support/standInAgentContext.ts';
import { calculatorTool } from '../tools/calculator.ts';
import { calculatorAgent } from './calculator.ts';

describe('calculator agent', () => {
  it('turns each expression in the question into one calculator call and answers with the results', async () => {
    const { ctx, events } = standInAgentContext({ tools: [calculatorTool] });
    const result = await calculatorAgent.run(calculatorAgent.input.parse({}), ctx);
    expect(result).toEqual({
      question: 'What is (2+3)*4 and sqrt(16)?',
      answer: '(2+3)*4 = 20; sqrt(16) = 4',
      results: [
        { expression: '(2+3)*4', result: 20, formatted: '20' },
        { expression: 'sqrt(16)', result: 4, formatted: '4' },
      ],
    });
    expect(events.flatMap((event) => (event.type === 'tool_executing' ? [event.input] : []))).toEqual([
      { expression: '(2+3)*4' },
      { expression: 'sqrt(16)' },
    ]);
    expect(events[0]).toMatchObject({ type: 'agent_thinking', text: expect.stringContaining('"(2+3)*4", "sqrt(16)"') });
  });

  it("reports the tool's reason for an expression it refuses and still completes", async () => {
    const { ctx, events } = standInAgentContext({ tools: [calculatorTool] });
    const result = await calculatorAgent.run({ question: 'what is 1/0 and 2 plus 2?' }, ctx);
    expect(result).toMatchObject({
      answer: '1/0 could not be computed; 2 + 2 = 4',
      results: [{ expression: '1/0', error: expect.stringContaining('division by zero') }, { result: 4 }],
    });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'agent_thinking',
        text: expect.stringContaining('The calculator refused "1/0"'),
      }),
    );
  });

  it('makes no tool call and says so when the question has no arithmetic', async () => {
    const { ctx, events } = standInAgentContext({ tools: [calculatorTool] });
    const result = await calculatorAgent.run({ question: 'tell me a joke' }, ctx);
    expect(result).toMatchObject({ results: [] });
    expect(events.map((event) => event.type)).toEqual(['agent_thinking']);
  });
});
