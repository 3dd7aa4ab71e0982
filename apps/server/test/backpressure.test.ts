import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, createClient, login, startTestServer, within } from './helpers.ts';
import { chattyAgent } from './reliability/support/chattyAgent.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  server = await startTestServer({ extraAgents: [chattyAgent] });
});
afterAll(async () => {
  await server.stop();
});

describe('a WebSocket reader replaying a run much larger than the backpressure threshold', () => {
  it('gets every event on its one connection: the server waits for it instead of dropping it', async () => {
    const token = await login(server.url, 'replaying-rita');
    const { client, close } = createClient(server.url, { transport: 'ws', token });
    // About 8 MB of events: eight times the point where the server pauses a WebSocket's subscriptions.
    const { runId } = await client.runs.start.mutate({ agent: 'chatty', input: { thoughts: 4_000, size: 2_000 } });
    await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 60_000, 'the live run');
    const replay = collect((cb) => client.runs.events.subscribe({ runId }, cb));
    await within(replay.done, 60_000, 'the replay');
    close();
    const stored = (await server.services.db.getRun(runId))?.events ?? [];
    expect(stored).toHaveLength(4_002);
    expect(replay.events()).toEqual(stored);
    expect(replay.starts()).toBe(1);
  });
});
