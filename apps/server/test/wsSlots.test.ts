import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { collect, createClient, login, startTestServer, within } from './helpers.ts';

/**
 * A user's WebSocket connection slots (`maxWsConnectionsPerUser`) are claimed when a connection's
 * context is created and freed when it closes. A connection the server closes while its context is
 * still being created (here: its connection params, then an over-size frame in the same write) must
 * not keep its slot: before the fix, each such connection leaked one, and the user was refused every
 * new connection once the leaks reached the cap (found by the hostile-streams soak).
 */
const MAX_BODY_BYTES = 1024;
let server: Awaited<ReturnType<typeof startTestServer>>;
let token = '';

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: MAX_BODY_BYTES, security: { maxWsConnectionsPerUser: 2 } });
  token = await login(server.url, 'slot-user');
});
afterAll(async () => {
  await server.stop();
});

/** Opens a connection, sends valid connection params then an over-size frame at once; resolves with the close code. */
function closedForSize(): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
    ws.once('error', () => undefined);
    ws.once('close', (code) => resolve(code));
    ws.once('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      ws.send('x'.repeat(MAX_BODY_BYTES * 2), (error) => {
        if (error !== undefined && error !== null && ws.readyState === WebSocket.OPEN) reject(error);
      });
    });
  });
}

describe('WebSocket connection slots', () => {
  it('are not kept by connections the server closed while their context was being created', async () => {
    for (let i = 0; i < 20; i += 1) expect(await closedForSize()).toBe(1009);
    // Two slots: both must still be free.
    const clients = [
      createClient(server.url, { transport: 'ws', token }),
      createClient(server.url, { transport: 'ws', token }),
    ];
    for (const { client } of clients) {
      const { runId } = await client.runs.start.mutate({ agent: 'calculator', input: { question: '1+1' } });
      const done = await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 20_000, 'the run');
      expect(done.flatMap((m) => m.events).at(-1)?.type).toBe('agent_completed');
    }
    for (const { close } of clients) close();
  });
});
