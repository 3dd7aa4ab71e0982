import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers.ts';
import { collect, createClient, eventually, login, orderingProblems, startTestServer, within } from '../helpers.ts';
import { reportFigures } from './support/figures.ts';
import { boundedLines, captureLog } from './support/logLines.ts';
import type { RawStream } from './support/rawStreams.ts';
import { openRawSse } from './support/rawStreams.ts';
import type { WsSession } from './support/wsSession.ts';
import { openWsSession } from './support/wsSession.ts';

const CAPS = { perUser: 6, perConnection: 3, ssePerUser: 2 };
const WS_PER_USER = 3;
const FLOOD = 600;

const log = captureLog('info');
let server: Awaited<ReturnType<typeof startTestServer>>;
let alice = '';
let bob = '';
let aliceClient: Client;
let resumeFrom = '';
const sse: RawStream[] = [];
const sessions: WsSession[] = [];
const figures: Record<string, unknown> = {};

async function runToEnd(client: Client): Promise<{ runId: string; events: RunEvent[] }> {
  const { runId } = await client.runs.start.mutate({ agent: 'calculator', input: { question: '(2+3)*4' } });
  const messages = await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 20_000, 'a run');
  return { runId, events: messages.flatMap((m) => m.events) };
}

/** A feed that replays alice's first run at once, so an accepted subscription answers with data. */
const feedInput = () => ({ lastEventId: resumeFrom });
const openSse = () => openRawSse({ baseUrl: server.url, path: 'runs.feed', input: feedInput(), token: alice });
const answered = (stream: RawStream) =>
  eventually(() => (stream.events.length > 0 || stream.errors.length > 0 ? true : undefined));
const errorOf = (stream: RawStream) =>
  (stream.errors[0] as { data?: { code?: string; reason?: string } } | undefined)?.data;

beforeAll(async () => {
  server = await startTestServer({
    subscriptionCaps: CAPS,
    security: { maxWsConnectionsPerUser: WS_PER_USER },
    logger: log.logger,
  });
  alice = await login(server.url, 'capped-alice');
  bob = await login(server.url, 'flowing-bob');
  aliceClient = createClient(server.url, { transport: 'sse', token: alice }).client;
  const first = await runToEnd(aliceClient);
  resumeFrom = `${first.runId}:1`;
});
afterAll(async () => {
  for (const stream of sse) stream.close();
  for (const session of sessions) session.close();
  reportFigures('caps', figures);
  await server.stop();
});

describe('one account at each cap: the new subscription is refused, what is open is untouched', () => {
  it(`concurrent SSE streams per user (${CAPS.ssePerUser}): the next is TOO_MANY_REQUESTS / SSE_STREAMS_PER_USER`, async () => {
    for (let i = 0; i < CAPS.ssePerUser; i += 1) {
      const stream = await openSse();
      sse.push(stream);
      await answered(stream);
      expect(stream.errors).toEqual([]);
    }
    const refused = await openSse();
    await answered(refused);
    expect(errorOf(refused)).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'SSE_STREAMS_PER_USER' });
    expect(JSON.stringify(refused.errors[0])).toMatch(/too many SSE streams: capped-alice already holds 2/);
    expect(refused.events).toEqual([]);
    expect(sse.map((s) => s.ended())).toEqual(['open', 'open']);
  });

  it(`subscriptions per WebSocket connection (${CAPS.perConnection}): the next on it is SUBSCRIPTIONS_PER_CONNECTION`, async () => {
    const session = await openWsSession(server.url, alice);
    sessions.push(session);
    for (let id = 1; id <= CAPS.perConnection; id += 1) {
      const sub = await session.subscribe(id, 'runs.feed', feedInput());
      expect(sub.error).toBeUndefined();
    }
    const refused = await session.subscribe(99, 'runs.feed', feedInput());
    expect(refused.error).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'SUBSCRIPTIONS_PER_CONNECTION' });
    expect(refused.error?.message).toMatch(/this WebSocket connection/);
  });

  it(`subscriptions per user (${CAPS.perUser}), across transports and connections: SUBSCRIPTIONS_PER_USER`, async () => {
    // Alice holds 2 (SSE) + 3 (first WebSocket) = 5.
    const session = await openWsSession(server.url, alice);
    sessions.push(session);
    expect((await session.subscribe(1, 'runs.feed', feedInput())).error).toBeUndefined();
    const refused = await session.subscribe(2, 'runs.feed', feedInput());
    expect(refused.error).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'SUBSCRIPTIONS_PER_USER' });
    expect(refused.error?.message).toMatch(/capped-alice already holds 6/);
    // SSE is refused by the same count.
    const viaSse = await openSse();
    await answered(viaSse);
    expect(errorOf(viaSse)).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'SUBSCRIPTIONS_PER_USER' });
  });

  it(`WebSocket connections per user (${WS_PER_USER}): the next connection is refused and closed`, async () => {
    const third = await openWsSession(server.url, alice);
    sessions.push(third);
    // A round trip, so its context (and its slot) exists before the fourth connects.
    expect((await third.subscribe(1, 'runs.feed', feedInput())).error?.reason).toBe('SUBSCRIPTIONS_PER_USER');
    const fourth = await openWsSession(server.url, alice);
    await fourth.subscribe(1, 'runs.feed', feedInput());
    expect(fourth.connectionError()).toMatchObject({ code: 'TOO_MANY_REQUESTS', reason: 'WS_CONNECTIONS_PER_USER' });
    await within(fourth.closed, 10_000, 'the refused connection closing');
    // Bob is not affected by alice's count.
    const bobs = await openWsSession(server.url, bob);
    sessions.push(bobs);
    // (Alice's event id is not his to resume from: an ordinary refusal, not a cap.)
    expect((await bobs.subscribe(1, 'runs.feed', { lastEventId: resumeFrom })).error?.code).toBe('BAD_REQUEST');
    expect(bobs.connectionError()).toBeUndefined();
  });

  it("alice's open streams still deliver her next run, and bob's streams flow over both transports", async () => {
    // Alice is at her cap, so she starts the run and watches it on the streams she holds.
    const { runId } = await aliceClient.runs.start.mutate({ agent: 'calculator', input: { question: '6*7' } });
    const delivered = (events: readonly RunEvent[]) =>
      events.some((e) => e.runId === runId && e.type === 'agent_completed');
    await eventually(() => (sse.every((s) => delivered(s.events)) ? true : undefined));
    const accepted = sessions
      .slice(0, 2)
      .flatMap((s) => [...s.subscriptions.values()])
      .filter((sub) => sub.error === undefined);
    expect(accepted).toHaveLength(CAPS.perConnection + 1);
    await eventually(() => (accepted.every((sub) => delivered(sub.events)) ? true : undefined));
    for (const transport of ['sse', 'ws'] as const) {
      const c = createClient(server.url, { transport, token: bob });
      const run = await runToEnd(c.client);
      expect(orderingProblems(run.events)).toEqual([]);
      c.close();
    }
  });

  it('a stream that closes frees its slot for the next one', async () => {
    sse.shift()?.close();
    const again = await eventually(async () => {
      const stream = await openSse();
      await answered(stream);
      if (stream.errors.length === 0) return stream;
      stream.close();
      return undefined;
    });
    sse.push(again);
    expect(again.events.length).toBeGreaterThan(0);
  });
});

describe('the HTTP server itself', () => {
  it('has explicit header, request and keep-alive timeouts and a bound on total connections', () => {
    const http = server.http.server;
    expect({
      headersTimeout: http.headersTimeout,
      requestTimeout: http.requestTimeout,
      keepAliveTimeout: http.keepAliveTimeout,
      maxConnections: http.maxConnections,
    }).toEqual({ headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 5_000, maxConnections: 10_000 });
  });
});

describe('thousands of requests from one account', () => {
  it(`${FLOOD} refused subscriptions and ${FLOOD} queries from alice: no crash, bounded logs, bob unaffected`, {
    timeout: 180_000,
  }, async () => {
    const before = log.lines().length;
    const startedAt = Date.now();
    const codes: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < 2 * FLOOD; i = next++) {
        if (i % 2 === 0) {
          const stream = await openSse();
          await within(stream.closed, 15_000, 'a refused stream');
          const code = String(errorOf(stream)?.reason ?? 'accepted');
          codes[code] = (codes[code] ?? 0) + 1;
        } else {
          const me = await aliceClient.auth.me.query();
          codes[me.userId] = (codes[me.userId] ?? 0) + 1;
        }
      }
    };
    await within(Promise.all(Array.from({ length: 20 }, worker)), 170_000, 'the flood');
    const lines = log.lines().slice(before);
    Object.assign(figures, { floodCodes: codes, floodLogLines: lines.length });
    expect(codes).toEqual({ SUBSCRIPTIONS_PER_USER: FLOOD, 'capped-alice': FLOOD });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    // However many refusals: a few lines per 10 s window (a bound, not a speed target).
    expect(lines.length).toBeLessThanOrEqual(boundedLines(Date.now() - startedAt));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(sse.every((s) => s.ended() === 'open')).toBe(true);
    const run = await runToEnd(createClient(server.url, { transport: 'sse', token: bob }).client);
    expect(orderingProblems(run.events)).toEqual([]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(Number(/toolrun_client_errors_total\{kind="over_cap"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(
      FLOOD,
    );
  });
});
