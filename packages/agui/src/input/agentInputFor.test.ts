import type { RunAgentInput } from '@ag-ui/core';
import type { AgentInfo } from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { agentInputFor } from './agentInputFor.ts';
import { readRunAgentInput } from './readRunAgentInput.ts';

function agent(properties: Record<string, unknown>): AgentInfo {
  return { name: 'a', description: 'a', access: 'user', inputSchema: { type: 'object', properties } as never };
}

function input(extra: Partial<RunAgentInput> = {}): RunAgentInput {
  return {
    threadId: 'thread-1',
    runId: 'run-1',
    messages: [
      { id: '1', role: 'user', content: 'first question' },
      {
        id: '2',
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'c1', type: 'function', function: { name: 't', arguments: '{}' } }],
      },
      { id: '3', role: 'tool', toolCallId: 'c1', content: 'done' },
      { id: '4', role: 'reasoning', content: 'thinking' },
      {
        id: '5',
        role: 'user',
        content: [
          { type: 'text', text: 'second ' },
          { type: 'text', text: 'question' },
        ],
      },
    ],
    tools: [],
    context: [],
    ...extra,
  };
}

describe('agentInputFor', () => {
  it("fills the agent's first string field with the last user message's text", () => {
    const research = agent({ maxSources: { type: 'number' }, question: { type: 'string' } });
    expect(agentInputFor(research, input())).toEqual({ question: 'second question' });
  });

  it('leaves an agent without a string field to its defaults', () => {
    expect(agentInputFor(agent({ calls: { type: 'integer' } }), input())).toEqual({});
  });

  it('takes forwardedProps.input as it is when given', () => {
    const research = agent({ question: { type: 'string' } });
    expect(agentInputFor(research, input({ forwardedProps: { input: { question: 'q', maxSources: 1 } } }))).toEqual({
      question: 'q',
      maxSources: 1,
    });
  });

  it('gives an agent that takes messages the whole conversation, and the client tools', () => {
    const openai = agent({ prompt: { type: 'string' }, messages: { type: 'array' }, clientTools: { type: 'array' } });
    const tools = [{ name: 'confirm', description: 'asks the user', parameters: { type: 'object' } }];
    expect(agentInputFor(openai, input({ tools }))).toEqual({
      prompt: 'second question',
      messages: [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 't', arguments: '{}' }] },
        { role: 'tool', content: 'done', toolCallId: 'c1' },
        { role: 'user', content: 'second question' },
      ],
      clientTools: tools,
    });
  });
});

describe('readRunAgentInput', () => {
  it("refuses with the protocol schema's issues, and placeholder thread ids", () => {
    const missing = readRunAgentInput({ threadId: 't-1' });
    expect('refusal' in missing && missing.refusal.message).toMatch(/runId: .*\n.*messages: /s);
    const placeholder = readRunAgentInput({ threadId: 'default', runId: 'r', messages: [] });
    expect('refusal' in placeholder && placeholder.refusal).toEqual({
      status: 400,
      message: expect.stringMatching(/^threadId: /),
    });
    expect(readRunAgentInput({ threadId: 't-1', runId: 'r', messages: [] })).toHaveProperty('input.threadId', 't-1');
  });
});
