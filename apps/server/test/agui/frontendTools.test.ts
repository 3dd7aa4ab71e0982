import type { Message } from '@ag-ui/client';
import { EventType } from '@ag-ui/client';
import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chunk,
  startChatCompletionsServer,
  streams,
  textChunks,
} from '../../../../packages/agents/test/support/chatCompletionsServer.ts';
import { createClient, login, startTestServer } from '../helpers.ts';
import { aguiClient, runWithClient, toolrunOf, userMessage } from './support.ts';

/** The model's first turn: it calls the client's `confirm_booking` tool. */
const callsClientTool = streams([
  chunk({ role: 'assistant', content: '' }),
  chunk({
    tool_calls: [
      { index: 0, id: 'model-call-1', type: 'function', function: { name: 'confirm_booking', arguments: '' } },
    ],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"day":"monday"}' } }] }),
  chunk({}, 'tool_calls'),
]);

let model: Awaited<ReturnType<typeof startChatCompletionsServer>>;
let server: Awaited<ReturnType<typeof startTestServer>>;
let token: string;

beforeAll(async () => {
  model = await startChatCompletionsServer([callsClientTool, streams(textChunks('Booked for Monday.'))]);
  server = await startTestServer({ openai: { baseURL: model.baseURL, apiKey: 'sk-test', model: 'test-model' } });
  token = await login(server.url, 'alice');
});
afterAll(async () => {
  await server.stop();
  await model.close();
});

describe('frontend tools with the openai agent', () => {
  it('hands a client tool call to the client, then continues the conversation with its result', async () => {
    const agent = aguiClient(server.url, 'openai', token);
    agent.addMessage(userMessage('Book me a table on Monday.'));
    const tools = [
      {
        name: 'confirm_booking',
        description: 'Asks the user to confirm a booking',
        parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] },
      },
    ];
    const first = await runWithClient(agent, { tools });
    expect(first.warnings).toEqual([]);
    // The model was offered the client's tool.
    expect(model.requests[0]?.body.tools?.map((t) => t.function.name)).toContain('confirm_booking');
    const start = first.events.find((e) => e.type === EventType.TOOL_CALL_START);
    expect(start).toMatchObject({ toolCallName: 'confirm_booking' });
    const callId = String(start?.toolCallId);
    expect(first.events.find((e) => e.type === EventType.TOOL_CALL_ARGS)?.delta).toBe('{"day":"monday"}');
    expect(first.events.some((e) => e.type === EventType.TOOL_CALL_END && e.toolCallId === callId)).toBe(true);
    expect(first.events.some((e) => e.type === EventType.TOOL_CALL_RESULT)).toBe(false);
    expect(first.events.at(-1)).toMatchObject({
      type: EventType.RUN_FINISHED,
      outcome: { type: 'success', pendingToolCallIds: [callId] },
    });

    // Toolrun's own record of the call keeps every ordering rule.
    const runId = toolrunOf(first.events[0]).runId;
    const { client } = createClient(server.url, { transport: 'sse', token });
    const events = (await client.runs.get.query({ runId })).events as RunEvent[];
    expect(events.map((e) => e.type)).toEqual(['agent_started', 'tool_executing', 'tool_completed', 'agent_completed']);
    expect(events[1]).toMatchObject({ callId, tool: 'client:confirm_booking', input: { day: 'monday' } });
    expect(events[2]).toMatchObject({ callId, status: 'cancelled', error: { code: 'CLIENT_TOOL' } });
    expect(events[3]).toMatchObject({ status: 'completed' });

    // The application runs the tool and sends its result in the next run on the same thread.
    const answer: Message = { id: 'tool-answer-1', role: 'tool', toolCallId: callId, content: '{"confirmed":true}' };
    agent.addMessage(answer);
    const second = await runWithClient(agent, { tools });
    expect(second.warnings).toEqual([]);
    expect(second.events.at(-1)).toMatchObject({ type: EventType.RUN_FINISHED, outcome: { type: 'success' } });
    expect(second.result).toMatchObject({ answer: 'Booked for Monday.' });
    const conversation = model.requests[1]?.body.messages ?? [];
    expect(conversation.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(conversation[1]?.tool_calls).toEqual([
      { id: callId, type: 'function', function: { name: 'confirm_booking', arguments: '{"day":"monday"}' } },
    ]);
    expect(conversation[2]).toMatchObject({ tool_call_id: callId, content: '{"confirmed":true}' });
    const secondRun = await client.runs.get.query({ runId: toolrunOf(second.events[0]).runId });
    expect(secondRun.run.threadId).toBe(agent.threadId);
  });
});
