import type { BaseEvent } from '@ag-ui/client';
import { EventType } from '@ag-ui/client';
import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, login, startTestServer } from '../helpers.ts';
import { aguiClient, runWithClient, userMessage } from './support.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = await login(server.url, 'alice');
});
afterAll(async () => {
  await server.stop();
});

function toolrunOf(event: BaseEvent): { runId: string; id: string; seq: number } {
  return (event.metadata as { toolrun: { runId: string; id: string; seq: number } }).toolrun;
}

describe('POST /agui/<agent> with the official HttpAgent', () => {
  it('runs the calculator agent: the client accepts every event, with no warning', async () => {
    const agent = aguiClient(server.url, 'calculator', token);
    agent.addMessage(userMessage('What is (2+3)*4 and sqrt(16)?'));
    const outcome = await runWithClient(agent);
    expect(outcome.warnings).toEqual([]);
    const types = outcome.events.map((e) => e.type);
    expect(types[0]).toBe(EventType.RUN_STARTED);
    expect(types.at(-1)).toBe(EventType.RUN_FINISHED);
    const runId = toolrunOf(outcome.events[0] as BaseEvent).runId;
    const { client } = createClient(server.url, { transport: 'sse', token });
    const detail = await client.runs.get.query({ runId });
    const events = detail.events as RunEvent[];
    const calls = events.filter((e) => e.type === 'tool_executing');
    expect(outcome.events.filter((e) => e.type === EventType.TOOL_CALL_START).map((e) => e.toolCallId)).toEqual(
      calls.map((e) => e.callId),
    );
    const done = events.at(-1);
    expect(done?.type).toBe('agent_completed');
    expect(outcome.result).toEqual(done?.type === 'agent_completed' ? done.result : undefined);
  });
});
