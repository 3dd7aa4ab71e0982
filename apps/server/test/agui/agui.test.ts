import type { BaseEvent } from '@ag-ui/client';
import { EventType } from '@ag-ui/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, login, startTestServer } from '../helpers.ts';
import {
  aguiClient,
  finishedRun,
  framesOf,
  post,
  runInput,
  runWithClient,
  toolrunOf,
  userMessage,
  verifiedEvents,
} from './support.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let token: string;
let adminToken: string;

beforeAll(async () => {
  server = await startTestServer();
  token = await login(server.url, 'alice');
  adminToken = await login(server.url, 'root', 'admin');
});
afterAll(async () => {
  await server.stop();
});

const DEMO_RUNS: { agent: string; text: string; forwarded?: unknown; admin?: boolean }[] = [
  { agent: 'research', text: 'How does Toolrun keep users isolated?' },
  { agent: 'calculator', text: 'What is (2+3)*4 and sqrt(16)?' },
  { agent: 'delegate', text: 'How are events ordered, and what is 6*7?' },
  { agent: 'parallel', text: 'fan out' },
  { agent: 'flaky', text: 'go', forwarded: { input: { calls: 8, failureRate: 0.8, seed: 1 } } },
  { agent: 'slow', text: 'go', forwarded: { input: { steps: 3, delayMs: 20 } } },
  { agent: 'admin', text: 'list', admin: true },
];

describe('POST /agui/<agent> with the official HttpAgent', () => {
  for (const demo of DEMO_RUNS) {
    it(`runs the ${demo.agent} agent: accepted with no warning, the same tool calls and result as the tRPC stream`, async () => {
      const as = demo.admin === true ? adminToken : token;
      const agent = aguiClient(server.url, demo.agent, as);
      agent.addMessage(userMessage(demo.text));
      const outcome = await runWithClient(
        agent,
        demo.forwarded === undefined ? {} : { forwardedProps: demo.forwarded as Record<string, unknown> },
      );
      expect(outcome.warnings).toEqual([]);
      const first = outcome.events[0] as BaseEvent;
      expect(first.type).toBe(EventType.RUN_STARTED);
      expect(outcome.events.at(-1)?.type).toBe(EventType.RUN_FINISHED);
      const { runId } = toolrunOf(first);
      expect(first.threadId).toBe(agent.threadId);

      const events = await finishedRun(server.url, as, runId);
      const executing = events.flatMap((e) => (e.type === 'tool_executing' ? [e] : []));
      const completed = events.flatMap((e) => (e.type === 'tool_completed' ? [e] : []));
      const starts = outcome.events.filter((e) => e.type === EventType.TOOL_CALL_START);
      expect(starts.map((e) => [e.toolCallId, e.toolCallName])).toEqual(executing.map((e) => [e.callId, e.tool]));
      const args = outcome.events.filter((e) => e.type === EventType.TOOL_CALL_ARGS);
      expect(args.map((e) => JSON.parse(String(e.delta)))).toEqual(executing.map((e) => e.input));
      const results = outcome.events.filter((e) => e.type === EventType.TOOL_CALL_RESULT);
      expect(results.map((e) => e.toolCallId)).toEqual(completed.map((e) => e.callId));
      expect(results.map((e) => JSON.parse(String(e.content)))).toEqual(
        completed.map((e) => (e.status === 'success' ? e.output : { status: e.status, error: e.error })),
      );
      const done = events.at(-1);
      expect(done?.type === 'agent_completed' && done.status).toBe('completed');
      expect(outcome.result).toEqual(done?.type === 'agent_completed' ? done.result : undefined);
      // Every AG-UI event names the Toolrun event it was made from; together they cover the run.
      expect([...new Set(outcome.events.map((e) => toolrunOf(e).seq))]).toEqual(events.map((e) => e.seq));
      // The run is an ordinary run of the caller: in its history, with its thread.
      const { client } = createClient(server.url, { transport: 'sse', token: as });
      const listed = await client.runs.list.query({ limit: 100 });
      expect(listed.items.map((run) => run.id)).toContain(runId);
    });
  }

  it('writes LF-framed SSE with the Toolrun event id as the id: line of the last frame of each event', async () => {
    const response = await post(`${server.url}/agui/calculator`, runInput('What is 1+1?'), token);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const text = await response.text();
    expect(text).not.toContain('\r');
    const frames = framesOf(text);
    const ids = frames.flatMap((frame) => (frame.id === undefined ? [] : [frame.id]));
    const seqs = frames.map((frame) => toolrunOf(frame.data as BaseEvent).seq);
    expect(ids).toEqual([...new Set(seqs)].map((seq) => `${toolrunOf(frames[0]?.data as BaseEvent).runId}:${seq}`));
    frames.forEach((frame, index) => {
      const last = index === frames.length - 1 || toolrunOf(frames[index + 1]?.data as BaseEvent).seq !== seqs[index];
      expect(frame.id !== undefined).toBe(last);
    });
    for (const frame of frames) expect(JSON.stringify(frame.data)).not.toContain('null');
  });
});

describe('runs that fail', () => {
  it('shows failures readably in TOOL_CALL_RESULT (the flaky tool failing, then the open circuit)', async () => {
    // A server of its own: the circuit breaker is per tool, and the flaky runs above may have opened it.
    const fresh = await startTestServer();
    const user = await login(fresh.url, 'alice');
    const body = runInput('go', { forwardedProps: { input: { calls: 12, failureRate: 1, seed: 3 } } });
    const events = await verifiedEvents(await post(`${fresh.url}/agui/flaky`, body, user)).finally(() => fresh.stop());
    const contents = events
      .filter((e) => e.type === EventType.TOOL_CALL_RESULT)
      .map((e) => JSON.parse(String(e.content)) as { status: string; error: { code: string; message: string } });
    expect(contents.map((c) => c.error.code)).toContain('TOOL_FAILED');
    expect(contents.map((c) => c.error.code)).toContain('CIRCUIT_OPEN');
    for (const content of contents) expect(content.error.message.length).toBeGreaterThan(0);
  });

  it('ends with RUN_ERROR when the run fails (its deadline passes) and when it is interrupted by a shutdown', async () => {
    const short = await startTestServer({ limits: { runDeadlineMs: 200 }, graceMs: 0 });
    try {
      const user = await login(short.url, 'alice');
      const body = runInput('go', { forwardedProps: { input: { steps: 20, delayMs: 500 } } });
      const events = await verifiedEvents(await post(`${short.url}/agui/slow`, body, user));
      expect(events.at(-1)).toMatchObject({ type: EventType.RUN_ERROR, code: 'RUN_DEADLINE' });
    } finally {
      await short.stop();
    }
    const stopping = await startTestServer({ graceMs: 0 });
    const user = await login(stopping.url, 'alice');
    const body = runInput('go', { forwardedProps: { input: { steps: 20, delayMs: 500 } } });
    const response = await post(`${stopping.url}/agui/slow`, body, user);
    const events = verifiedEvents(response);
    await stopping.stop();
    const received = await events;
    expect(received.at(-1)).toMatchObject({ type: EventType.RUN_ERROR, code: 'SHUTTING_DOWN' });
  });
});
