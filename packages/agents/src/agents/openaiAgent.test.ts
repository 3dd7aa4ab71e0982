import { afterEach, describe, expect, it } from 'vitest';
import {
  chunk,
  fails,
  hangs,
  type Responder,
  stallsMidStream,
  startChatCompletionsServer,
  streams,
  textChunks,
} from '../../test/support/chatCompletionsServer.ts';
import { standInAgentContext } from '../../test/support/standInAgentContext.ts';
import { createBuiltinTools } from '../createBuiltinTools.ts';
import { createInMemoryScratchpad } from '../createInMemoryScratchpad.ts';
import { toolSpecsOf } from '../openai/toolSpecsOf.ts';
import { createOpenAIAgent, type OpenAIAgentConfig } from './openaiAgent.ts';

const API_KEY = 'sk-test-secret-123';
const tools = createBuiltinTools({
  scratchpad: createInMemoryScratchpad(),
  runControl: { activeRuns: () => [], cancelRun: () => false },
  history: { prune: async () => ({ runs: 0, events: 0 }) },
});

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

async function setup(responders: readonly Responder[], config: Partial<OpenAIAgentConfig> = {}) {
  const server = await startChatCompletionsServer(responders);
  closers.push(server.close);
  const agent = createOpenAIAgent({
    baseURL: server.baseURL,
    apiKey: API_KEY,
    model: 'test-model',
    tools: toolSpecsOf(tools),
    ...config,
  });
  return { server, agent };
}

// The model's first turn: a sentence, then two tool calls whose arguments arrive in pieces.
const toolTurn = [
  chunk({ role: 'assistant', content: '' }),
  ...'I will compute the product first. Then I look up the docs. '
    .split(/(?<= )/)
    .map((word) => chunk({ content: word })),
  chunk({
    tool_calls: [{ index: 0, id: 'call_calc', type: 'function', function: { name: 'calculator', arguments: '' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"expre' } }] }),
  chunk({
    tool_calls: [
      { index: 1, id: 'call_search', type: 'function', function: { name: 'search', arguments: '{"query":' } },
    ],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: 'ssion":"(2+3)' } }] }),
  chunk({ tool_calls: [{ index: 1, function: { arguments: '"isolation","limit":1}' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '*4"}' } }] }),
  chunk({}, 'tool_calls'),
];
const answerTurn = textChunks(
  'The product is 20. The docs say each request gets its own scope, so users stay isolated.',
);

describe('createOpenAIAgent', () => {
  it('runs a streaming tool-calling loop: split arguments, two calls in one turn, then a final answer', async () => {
    const { server, agent } = await setup([streams(toolTurn), streams(answerTurn)]);
    const { ctx, events } = standInAgentContext({ tools });
    const result = await agent.run(agent.input.parse({ prompt: 'What is (2+3)*4, and how are users isolated?' }), ctx);

    expect(result).toEqual({
      answer: 'The product is 20. The docs say each request gets its own scope, so users stay isolated.',
      model: 'test-model',
      steps: 2,
      toolCalls: 2,
      finishReason: 'stop',
    });
    expect(events.filter((event) => event.type === 'tool_executing')).toEqual([
      expect.objectContaining({ tool: 'calculator', input: { expression: '(2+3)*4' } }),
      expect.objectContaining({ tool: 'search', input: { query: 'isolation', limit: 1 } }),
    ]);
    expect(
      events
        .filter((event) => event.type === 'tool_completed')
        .map((event) => 'result' in event && event.result.status),
    ).toEqual(['success', 'success']);

    // The second request carries the assistant's tool calls and one tool message per call.
    const followUp = server.requests[1]?.body.messages ?? [];
    expect(followUp.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
    expect(followUp[1]).toMatchObject({
      content: 'I will compute the product first. Then I look up the docs. ',
      tool_calls: [
        { id: 'call_calc', type: 'function', function: { name: 'calculator', arguments: '{"expression":"(2+3)*4"}' } },
        {
          id: 'call_search',
          type: 'function',
          function: { name: 'search', arguments: '{"query":"isolation","limit":1}' },
        },
      ],
    });
    expect(followUp[2]).toMatchObject({ tool_call_id: 'call_calc' });
    expect(JSON.parse(String(followUp[2]?.content))).toMatchObject({ status: 'success', output: { result: 20 } });
    expect(JSON.parse(String(followUp[3]?.content))).toMatchObject({
      status: 'success',
      output: { results: [{ id: 'isolation' }] },
    });
  });

  it('coalesces text deltas into sentence-sized thoughts, not one event per token', async () => {
    const { agent } = await setup([streams(toolTurn), streams(answerTurn)]);
    const { ctx, events } = standInAgentContext({ tools });
    await agent.run({ prompt: 'go' }, ctx);
    const thoughts = events.flatMap((event) => (event.type === 'agent_thinking' ? [event.text] : []));
    expect(thoughts).toEqual([
      'I will compute the product first. Then I look up the docs.',
      'The product is 20.',
      'The docs say each request gets its own scope, so users stay isolated.',
    ]);
  });

  it('sends the model, the key, stream: true and the tools with their JSON Schemas', async () => {
    const { server, agent } = await setup([streams(textChunks('Hello there.'))]);
    const { ctx } = standInAgentContext({ tools });
    await agent.run({ prompt: 'hi' }, ctx);
    const request = server.requests[0];
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toMatchObject({ model: 'test-model', stream: true });
    const calculator = request?.body.tools?.find((tool) => tool.function.name === 'calculator');
    expect(calculator?.function.parameters).toMatchObject({
      type: 'object',
      properties: { expression: { type: 'string', maxLength: 500 } },
    });
    expect(calculator?.function.parameters).not.toHaveProperty('$schema');
  });

  it('offers admin tools to admins only', async () => {
    const { server, agent } = await setup([streams(textChunks('Ok.'))]);
    await agent.run({ prompt: 'hi' }, standInAgentContext({ tools }).ctx);
    await agent.run(
      { prompt: 'hi' },
      standInAgentContext({ tools, userId: 'root-admin', roles: ['user', 'admin'] }).ctx,
    );
    const offered = server.requests.map((request) => request.body.tools?.map((tool) => tool.function.name) ?? []);
    expect(offered[0]).not.toContain('cancel_run');
    expect(offered[0]).toContain('calculator');
    expect(offered[1]).toEqual(expect.arrayContaining(['cancel_run', 'list_active_runs', 'purge_history']));
  });

  it.each([
    [401, 'unauthorized', /refused the API key \(HTTP 401\): bad key \[REDACTED\]/],
    [429, 'rate_limited', /is rate limiting requests; try again later \(HTTP 429\)/],
    [500, 'server_error', /failed \(HTTP 500\)/],
    [503, 'server_error', /failed \(HTTP 503\)/],
  ])('fails the run clearly on HTTP %i, after a single request', async (status, reason, message) => {
    const { server, agent } = await setup([fails(status, `bad key ${API_KEY}`)]);
    const failure = agent.run({ prompt: 'hi' }, standInAgentContext({ tools }).ctx);
    await expect(failure).rejects.toMatchObject({ code: 'AGENT_FAILED', details: { reason, status } });
    await expect(failure).rejects.toThrow(message);
    await expect(failure).rejects.not.toThrow(API_KEY);
    expect(server.requests).toHaveLength(1);
  });

  // Hang guards: without the agent's own time-out these would wait until the test times out.
  it('fails with a time-out when the server never answers', { timeout: 10_000 }, async () => {
    const { agent } = await setup([hangs], { timeoutMs: 300 });
    await expect(agent.run({ prompt: 'hi' }, standInAgentContext({ tools }).ctx)).rejects.toMatchObject({
      code: 'AGENT_FAILED',
      details: { reason: 'timeout' },
      message: expect.stringMatching(/did not answer within 300 ms \(timeoutMs\)$/),
    });
  });

  it('fails with a time-out when the stream stalls after the headers', { timeout: 10_000 }, async () => {
    const { agent } = await setup([stallsMidStream], { timeoutMs: 300 });
    const { ctx, events } = standInAgentContext({ tools });
    await expect(agent.run({ prompt: 'hi' }, ctx)).rejects.toMatchObject({ details: { reason: 'timeout' } });
    expect(events).toEqual([{ type: 'agent_thinking', text: 'Thinking about', step: 1 }]);
  });

  it("aborts mid-stream with the run's reason when the run is cancelled while text streams", {
    timeout: 10_000,
  }, async () => {
    const { agent } = await setup([stallsMidStream], { timeoutMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error('cancelled by user');
    const pending = agent.run({ prompt: 'hi' }, standInAgentContext({ tools, signal: controller.signal }).ctx);
    setTimeout(() => controller.abort(reason), 100);
    await expect(pending).rejects.toBe(reason);
  });

  it('fails when the stream ends without a finish_reason (a cut connection)', async () => {
    const cut: Responder = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${JSON.stringify(chunk({ content: 'Half an ans' }))}\n\n`);
    };
    const { agent } = await setup([cut]);
    await expect(agent.run({ prompt: 'hi' }, standInAgentContext({ tools }).ctx)).rejects.toMatchObject({
      details: { reason: 'stream' },
      message: expect.stringContaining('ended without a finish_reason'),
    });
  });

  it('fails on malformed tool-call arguments without calling the tool', async () => {
    const broken = [
      chunk({
        tool_calls: [
          {
            index: 0,
            id: 'call_1',
            type: 'function',
            function: { name: 'calculator', arguments: '{"expression": "1+' },
          },
        ],
      }),
      chunk({}, 'tool_calls'),
    ];
    const { agent } = await setup([streams(broken)]);
    const { ctx, events } = standInAgentContext({ tools });
    const failure = agent.run({ prompt: 'hi' }, ctx);
    await expect(failure).rejects.toMatchObject({ code: 'AGENT_FAILED', details: { reason: 'malformed_arguments' } });
    await expect(failure).rejects.toThrow(
      /malformed arguments for tool "calculator" \(not JSON: .+\): \{"expression": "1\+$/,
    );
    expect(events.filter((event) => event.type === 'tool_executing')).toEqual([]);
  });

  it('fails when the model keeps calling tools past maxSteps', async () => {
    const again = streams([
      chunk({
        tool_calls: [
          { index: 0, id: 'c', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1"}' } },
        ],
      }),
      chunk({}, 'tool_calls'),
    ]);
    const { server, agent } = await setup([again], { maxSteps: 2 });
    await expect(agent.run({ prompt: 'hi' }, standInAgentContext({ tools }).ctx)).rejects.toMatchObject({
      details: { reason: 'step_limit' },
      message: 'the model did not give a final answer within 2 turns (maxSteps); it made 2 tool calls',
    });
    expect(server.requests).toHaveLength(2);
  });

  it('sends a failed tool result back to the model instead of failing the run', async () => {
    const badCall = [
      chunk({
        tool_calls: [
          { index: 0, id: 'c1', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1/0"}' } },
        ],
      }),
      chunk({}, 'tool_calls'),
    ];
    const { server, agent } = await setup([streams(badCall), streams(textChunks('Division by zero is undefined.'))]);
    await expect(agent.run({ prompt: '1/0?' }, standInAgentContext({ tools }).ctx)).resolves.toMatchObject({
      answer: 'Division by zero is undefined.',
    });
    const toolMessage = server.requests[1]?.body.messages?.at(-1);
    expect(JSON.parse(String(toolMessage?.content))).toMatchObject({ status: 'error', error: { code: 'TOOL_FAILED' } });
  });

  it("aborts the request at once with the run's reason when the run is cancelled", { timeout: 10_000 }, async () => {
    const { agent } = await setup([hangs], { timeoutMs: 60_000 });
    const controller = new AbortController();
    const reason = new Error('cancelled by user');
    const pending = agent.run({ prompt: 'hi' }, standInAgentContext({ tools, signal: controller.signal }).ctx);
    setTimeout(() => controller.abort(reason), 50);
    await expect(pending).rejects.toBe(reason);
  });

  it('fails clearly when nothing listens at the base URL', async () => {
    const server = await startChatCompletionsServer([]);
    await server.close();
    const agent = createOpenAIAgent({ baseURL: server.baseURL, apiKey: API_KEY, model: 'm' });
    await expect(agent.run({ prompt: 'hi' }, standInAgentContext({ tools }).ctx)).rejects.toMatchObject({
      details: { reason: 'connection' },
      message: expect.stringContaining(`cannot reach the model server at ${server.baseURL}`),
    });
  });

  it('refuses a bad config at creation, naming the field', () => {
    expect(() => createOpenAIAgent({ baseURL: 'not a url', apiKey: 'k', model: 'm' })).toThrow(/baseURL/);
    expect(() => createOpenAIAgent({ baseURL: 'http://127.0.0.1:1/v1', apiKey: '', model: 'm' })).toThrow(/apiKey/);
    expect(() => createOpenAIAgent({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k', model: 'm', maxSteps: 0 })).toThrow(
      /maxSteps/,
    );
  });

  it('is named openai by default, or as configured, and needs a prompt', () => {
    const base = { baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k', model: 'm' };
    expect(createOpenAIAgent(base).name).toBe('openai');
    expect(createOpenAIAgent({ ...base, name: 'local-llm' }).name).toBe('local-llm');
    expect(createOpenAIAgent(base).input.safeParse({}).success).toBe(false);
  });
});
