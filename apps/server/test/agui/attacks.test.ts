import { EventType } from '@ag-ui/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startTestServer } from '../helpers.ts';
import { aguiClient, post, runInput, toolrunOf, userMessage, verifiedEvents } from './support.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let alice: string;
let bob: string;

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: 64 * 1024 });
  alice = await login(server.url, 'alice');
  bob = await login(server.url, 'bob');
});
afterAll(async () => {
  await server.stop();
});

async function expectRefused(response: Response, status: number, body: RegExp): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await response.text();
  expect(text).toMatch(body);
  expect(text).not.toMatch(/\n\s+at /);
}

describe('the AG-UI endpoint refuses before any stream', () => {
  it('401 without a token, with a forged token, and for HttpAgent it is an HTTP 401 error', async () => {
    await expectRefused(await post(`${server.url}/agui/calculator`, runInput('1+1')), 401, /authentication required/);
    await expectRefused(
      await post(`${server.url}/agui/calculator`, runInput('1+1'), 'not-a-token'),
      401,
      /authentication required/,
    );
    const reattach = await fetch(`${server.url}/agui/runs/run_x`);
    await expectRefused(reattach, 401, /authentication required/);
    const agent = aguiClient(server.url, 'calculator', 'forged.token.value');
    agent.addMessage(userMessage('1+1'));
    await expect(agent.runAgent()).rejects.toMatchObject({ status: 401 });
    expect(server.services.factory.activeRuns()).toEqual([]);
  });

  it('400 for malformed JSON, schema violations and placeholder thread ids; 413 oversized; 415 not JSON', async () => {
    const url = `${server.url}/agui/calculator`;
    await expectRefused(await post(url, '{"threadId": ', alice), 400, /not valid JSON/);
    await expectRefused(await post(url, { threadId: 't-1', runId: 'r' }, alice), 400, /RunAgentInput:\nmessages: /);
    await expectRefused(await post(url, runInput('x', { messages: [{ role: 'user' }] }), alice), 400, /messages\.0/);
    await expectRefused(await post(url, runInput('x', { threadId: 'default' }), alice), 400, /^threadId: /);
    await expectRefused(await post(url, runInput('x', { threadId: '' }), alice), 400, /^threadId: /);
    await expectRefused(await post(url, runInput('x'.repeat(70 * 1024)), alice), 413, /at most 65536 bytes/);
    await expectRefused(
      await post(url, JSON.stringify(runInput('x')), alice, { 'Content-Type': 'text/plain' }),
      415,
      /JSON/,
    );
    // The agent's own schema refuses its input (forwardedProps.input) with its issues.
    const bad = runInput('x', { forwardedProps: { input: { question: 5 } } });
    await expectRefused(await post(url, bad, alice), 400, /question/);
  });

  it('404 for an unknown agent and an unknown path, 403 for an admin agent, 405 for a wrong method', async () => {
    await expectRefused(await post(`${server.url}/agui/nope`, runInput('x'), alice), 404, /nope/);
    await expectRefused(await post(`${server.url}/agui/a/b/c`, runInput('x'), alice), 404, /no such AG-UI endpoint/);
    await expectRefused(await post(`${server.url}/agui/admin`, runInput('x'), alice), 403, /admin/);
    const get = await fetch(`${server.url}/agui/calculator`, { headers: { Authorization: `Bearer ${alice}` } });
    await expectRefused(get, 405, /use POST/);
  });

  it("answers 404 to another user's reattach, as to a run that does not exist", async () => {
    const response = await post(`${server.url}/agui/calculator`, runInput('What is 2+2?'), alice);
    const events = await verifiedEvents(response);
    const runId = toolrunOf(events[0]).runId;
    const headers = { Authorization: `Bearer ${bob}`, 'Last-Event-ID': `${runId}:1` };
    await expectRefused(await fetch(`${server.url}/agui/runs/${runId}`, { headers }), 404, /no run/);
    await expectRefused(
      await fetch(`${server.url}/agui/runs/run_missing`, { headers: { Authorization: `Bearer ${alice}` } }),
      404,
      /no run/,
    );
    const own = { Authorization: `Bearer ${alice}` };
    await expectRefused(
      await fetch(`${server.url}/agui/runs/${runId}?lastEventId=other:3`, { headers: own }),
      400,
      /not an event of this run/,
    );
    await expectRefused(
      await fetch(`${server.url}/agui/runs/${runId}?lastEventId=${runId}:99999`, { headers: own }),
      400,
      /past the last event/,
    );
  });

  it("403 for a foreign Origin, from the server's gate before anything else", async () => {
    const response = await post(`${server.url}/agui/calculator`, runInput('1+1'), alice, {
      Origin: 'https://evil.example',
    });
    expect(response.status).toBe(403);
    expect(server.services.factory.activeRuns()).toEqual([]);
  });

  it('stays bounded under more than a thousand requests from one account: refusals, runs at the limit, nothing left open', async () => {
    const url = `${server.url}/agui/slow`;
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    // 1,000 bad bodies, 100 in flight at a time.
    for (let i = 0; i < 1_000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, n) => {
          const response = await post(url, n % 2 === 0 ? '{' : { threadId: 'default' }, alice);
          count(response.status);
          await response.text();
        }),
      );
    }
    // 120 valid runs, 40 at once: more than the 16 concurrent runs a user may have.
    let peakRuns = 0;
    const body = runInput('go', { forwardedProps: { input: { steps: 1, delayMs: 300 } } });
    for (let round = 0; round < 3; round += 1) {
      await Promise.all(
        Array.from({ length: 40 }, async () => {
          const response = await post(url, body, alice);
          count(response.status);
          peakRuns = Math.max(peakRuns, server.services.factory.activeRuns().length);
          if (response.status !== 200) {
            await response.text();
            return;
          }
          const events = await verifiedEvents(response);
          expect(events.at(-1)?.type).toBe(EventType.RUN_FINISHED);
        }),
      );
    }
    expect([...statuses.keys()].sort()).toEqual([200, 400, 429]);
    expect(statuses.get(400)).toBe(1_000);
    expect((statuses.get(200) ?? 0) + (statuses.get(429) ?? 0)).toBe(120);
    expect(peakRuns).toBeLessThanOrEqual(16);
    expect(server.services.factory.activeRuns()).toEqual([]);
    expect(server.services.subscriptions().runs).toBe(0);
    expect(server.services.hub.subscriberCount()).toBe(0);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
  }, 60_000);
});
