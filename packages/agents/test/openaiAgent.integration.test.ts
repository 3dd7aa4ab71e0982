import {
  createDispatcherFactory,
  createMemorySink,
  findOrderingViolations,
  RUN_EVENT_TYPES,
  type RunEvent,
} from '@toolrun/dispatcher';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createBuiltinTools,
  createInMemoryScratchpad,
  createOpenAIAgent,
  type OpenAIAgentConfig,
  type OpenAIToolSpec,
  toolSpecsOf,
} from '../src/index.ts';
import {
  chunk,
  fails,
  hangs,
  type Responder,
  startChatCompletionsServer,
  streams,
  textChunks,
} from './support/chatCompletionsServer.ts';

const API_KEY = 'sk-integration-secret';
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

// The real factory and tools; the model server is the scripted local one (no model runs here).
async function setup(
  responders: readonly Responder[],
  config: Partial<OpenAIAgentConfig> = {},
  input: Record<string, unknown> = { prompt: 'What is 6*7?' },
) {
  const server = await startChatCompletionsServer(responders);
  closers.push(server.close);
  const tools = createBuiltinTools({
    scratchpad: createInMemoryScratchpad(),
    runControl: { activeRuns: () => [], cancelRun: () => false },
    history: { prune: async () => ({ runs: 0, events: 0 }) },
  });
  const agent = createOpenAIAgent({
    baseURL: server.baseURL,
    apiKey: API_KEY,
    model: 'test-model',
    tools: toolSpecsOf(tools),
    ...config,
  });
  const sink = createMemorySink();
  const factory = createDispatcherFactory({ tools, agents: [agent], sink });
  const handle = factory.startRun({
    context: factory.createContext({ userId: 'alice' }),
    agent: 'openai',
    input,
  });
  return { server, factory, sink, handle };
}

const toolThenAnswer = [
  streams([
    chunk({ role: 'assistant', content: 'I will use the calculator for this. ' }),
    chunk({
      tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'calculator', arguments: '{"expr' } }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: 'ession": "6*7"}' } }] }),
    chunk({}, 'tool_calls'),
  ]),
  streams(textChunks('The answer is 42.')),
];

const secretIn = (events: readonly RunEvent[]) => JSON.stringify(events).includes(API_KEY);

describe('the OpenAI agent through the real dispatcher factory', () => {
  it("emits all five event types in order and completes with the model's answer", { timeout: 15_000 }, async () => {
    const { sink, handle } = await setup(toolThenAnswer);
    const last = await handle.done;
    const events = sink.events(handle.runId);
    expect(last).toMatchObject({
      status: 'completed',
      toolCalls: 1,
      result: { answer: 'The answer is 42.', steps: 2 },
    });
    expect([...new Set(events.map((event) => event.type))]).toEqual([...RUN_EVENT_TYPES]);
    expect(findOrderingViolations(events)).toEqual([]);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'tool_completed',
        tool: 'calculator',
        status: 'success',
        output: expect.objectContaining({ result: 42 }),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'agent_thinking', text: 'I will use the calculator for this.' }),
    );
  });

  it("accepts the registry's ToolInfo list as its tool specs", () => {
    const factory = createDispatcherFactory({
      tools: createBuiltinTools({
        scratchpad: createInMemoryScratchpad(),
        runControl: { activeRuns: () => [], cancelRun: () => false },
        history: { prune: async () => ({ runs: 0, events: 0 }) },
      }),
      sink: createMemorySink(),
    });
    const specs: readonly OpenAIToolSpec[] = factory.tools.list();
    expect(specs.map((spec) => spec.name)).toContain('calculator');
    expect(() =>
      createOpenAIAgent({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k', model: 'm', tools: specs }),
    ).not.toThrow();
  });

  it.each([
    [401, /refused the API key \(HTTP 401\)/],
    [429, /rate limiting requests; try again later \(HTTP 429\)/],
    [500, /failed \(HTTP 500\)/],
  ])(
    'ends the run failed with AGENT_FAILED on HTTP %i, never leaking the key',
    { timeout: 15_000 },
    async (status, message) => {
      const { sink, handle } = await setup([fails(status, `Incorrect API key provided: ${API_KEY}`)]);
      const last = await handle.done;
      expect(last).toMatchObject({
        status: 'failed',
        error: { code: 'AGENT_FAILED', message: expect.stringMatching(message) },
      });
      expect(secretIn(sink.events(handle.runId))).toBe(false);
    },
  );

  it('ends the run failed on malformed tool-call arguments', { timeout: 15_000 }, async () => {
    const { sink, handle } = await setup([
      streams([
        chunk({
          tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'calculator', arguments: '{oops' } }],
        }),
        chunk({}, 'tool_calls'),
      ]),
    ]);
    const last = await handle.done;
    expect(last).toMatchObject({
      status: 'failed',
      error: { code: 'AGENT_FAILED', message: expect.stringContaining('malformed arguments') },
    });
    expect(sink.events(handle.runId).some((event) => event.type === 'tool_executing')).toBe(false);
  });

  it('ends the run failed when the server never answers within timeoutMs', { timeout: 15_000 }, async () => {
    const { handle } = await setup([hangs], { timeoutMs: 300 });
    await expect(handle.done).resolves.toMatchObject({
      status: 'failed',
      error: { code: 'AGENT_FAILED', message: expect.stringContaining('did not answer within 300 ms') },
    });
  });

  it('ends the run cancelled when cancelled while waiting for the model', { timeout: 15_000 }, async () => {
    const { handle, server, factory } = await setup([hangs]);
    for (let i = 0; i < 200 && server.requests.length === 0; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(factory.cancelRun(handle.runId, 'stop')).toBe(true);
    await expect(handle.done).resolves.toMatchObject({ status: 'cancelled' });
    expect(factory.liveScopes()).toBe(0);
  });
});

describe('client tools and conversations (the AG-UI endpoint passes them)', () => {
  it('refuses a client tool named like a Toolrun tool, before asking the model anything', async () => {
    const clientTools = [{ name: 'calculator', description: 'a client calculator' }];
    const { server, handle } = await setup(toolThenAnswer, {}, { prompt: 'hi', clientTools });
    const done = await handle.done;
    expect(done).toMatchObject({ status: 'failed', error: { code: 'AGENT_FAILED' } });
    expect(done.error?.message).toMatch(/client tool "calculator" has the name of a Toolrun tool/);
    expect(server.requests).toHaveLength(0);
  });

  it('sends a given conversation instead of the prompt, merging one-call assistant messages', async () => {
    const { server, handle } = await setup([streams(textChunks('Done.'))]);
    await handle.done;
    expect(server.requests[0]?.body.messages?.map((m) => m.role)).toEqual(['user']);
    const conversation = await setup([streams(textChunks('Done.'))]);
    const { factory } = conversation;
    const run = factory.startRun({
      context: factory.createContext({ userId: 'alice' }),
      agent: 'openai',
      input: {
        messages: [
          { role: 'user', content: 'two calls' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'x', arguments: '{}' }] },
          { role: 'assistant', content: '', toolCalls: [{ id: 'b', name: 'y', arguments: '{}' }] },
          { role: 'tool', content: '1', toolCallId: 'a' },
          { role: 'tool', content: '2', toolCallId: 'b' },
        ],
      },
    });
    expect(await run.done).toMatchObject({ status: 'completed' });
    await conversation.handle.done;
    // The setup's own run (a prompt) asked too: pick this run's request by its first message.
    const request = conversation.server.requests.find((r) => r.body.messages?.[0]?.content === 'two calls');
    const sent = request?.body.messages ?? [];
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool']);
    expect(sent[1]?.tool_calls).toHaveLength(2);
  });
});
