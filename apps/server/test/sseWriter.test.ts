import type { IncomingMessage } from 'node:http';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initTRPC, tracked } from '@trpc/server';
import { afterAll, describe, expect, it } from 'vitest';
import type { SseMode } from '../src/index.ts';
import { createLeanSseHandler } from '../src/sseSubscriptions.ts';
import type { Client } from './helpers.ts';
import { codeOf, collect, createClient, login, orderingProblems, startTestServer, tempDir, within } from './helpers.ts';

const MODES: readonly SseMode[] = ['lean', 'trpc'];
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe.each(MODES)('SSE subscriptions written by %s', (sse) => {
  it('serve the same client scenarios: order, resume, NOT_FOUND, BAD_REQUEST, reconnect after a drop', async () => {
    const server = await startTestServer({ sse });
    cleanups.push(() => server.stop());
    const alice = createClient(server.url, { transport: 'sse', token: await login(server.url, 'alice') }).client;
    const bob = createClient(server.url, { transport: 'sse', token: await login(server.url, 'bob') }).client;
    const follow = (client: Client, runId: string, lastEventId?: string) =>
      collect((cb) => client.runs.events.subscribe(lastEventId === undefined ? { runId } : { runId, lastEventId }, cb));

    const { runId } = await alice.runs.start.mutate({ agent: 'calculator', input: { question: '2+3' } });
    const events = (await within(follow(alice, runId).done, 20_000, 'the run stream')).flatMap((m) => m.events);
    expect(orderingProblems(events)).toEqual([]);
    expect(new Set(events.map((e) => e.type)).size).toBe(5);

    const middle = events[1]?.id ?? '';
    const rest = (await within(follow(alice, runId, middle).done, 20_000, 'the resumed stream')).flatMap(
      (m) => m.events,
    );
    expect(rest).toEqual(events.slice(2));

    expect(await codeOf(follow(bob, runId).done)).toBe('NOT_FOUND');
    expect(await codeOf(follow(alice, runId, 'not-an-event-id').done)).toBe('BAD_REQUEST');

    const slow = await alice.runs.start.mutate({ agent: 'slow', input: { steps: 6, delayMs: 100 } });
    const dropped = follow(alice, slow.runId);
    await dropped.waitForEvents(2);
    server.http.server.closeAllConnections();
    const resumed = (await within(dropped.done, 20_000, 'the dropped stream')).flatMap((m) => m.events);
    expect(dropped.starts()).toBeGreaterThan(1);
    expect(orderingProblems(resumed)).toEqual([]);
    expect(resumed).toEqual((await alice.runs.get.query({ runId: slow.runId })).events);
  });
});

describe('the lean writer and tRPC', () => {
  it('write the same bytes: status, SSE headers and frames, for a stream and for each early error', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const database = `${tmp.dir}/shared.db`;
    // One finished run on one database file, replayed by a lean server, then by a tRPC one.
    const lean = await startTestServer({ sse: 'lean', database });
    const token = await login(lean.url, 'alice');
    const other = await login(lean.url, 'bob');
    const alice = createClient(lean.url, { transport: 'sse', token }).client;
    const { runId } = await alice.runs.start.mutate({ agent: 'calculator', input: { question: '2+3' } });
    const events = (
      await within(collect((cb) => alice.runs.events.subscribe({ runId }, cb)).done, 20_000, 'run')
    ).flatMap((m) => m.events);
    const q = (input: unknown, params: Record<string, string> = {}) =>
      `?${new URLSearchParams({ input: JSON.stringify(input), ...params }).toString()}`;
    const asAlice = { connectionParams: JSON.stringify({ token }) };
    const cases: [string, string, Record<string, string>?][] = [
      ['whole run', `/trpc/runs.events${q({ runId }, asAlice)}`],
      ['resume by query', `/trpc/runs.events${q({ runId }, { ...asAlice, lastEventId: events[1]?.id ?? '' })}`],
      ['resume by header', `/trpc/runs.events${q({ runId }, asAlice)}`, { 'last-event-id': events[2]?.id ?? '' }],
      ['finished, nothing left', `/trpc/runs.events${q({ runId, lastEventId: events.at(-1)?.id }, asAlice)}`],
      ['NOT_FOUND', `/trpc/runs.events${q({ runId }, { connectionParams: JSON.stringify({ token: other }) })}`],
      ['UNAUTHORIZED', `/trpc/runs.events${q({ runId })}`],
      ['BAD_REQUEST input', `/trpc/runs.events${q({ runId: 42 }, asAlice)}`],
      ['BAD_REQUEST lastEventId', `/trpc/runs.events${q({ runId, lastEventId: 'nope' }, asAlice)}`],
      ['unparsable input', `/trpc/runs.events?input=%7Bnope&${new URLSearchParams(asAlice).toString()}`],
      ['FORBIDDEN feed', `/trpc/runs.feed${q({ scope: 'all' }, asAlice)}`],
    ];
    const fromLean: Raw[] = [];
    for (const [, path, headers] of cases) fromLean.push(await fetchRaw(lean.url, path, headers));
    await lean.close();

    const trpc = await startTestServer({ sse: 'trpc', database });
    cleanups.push(() => trpc.stop());
    for (const [i, [name, path, headers]] of cases.entries()) {
      const theirs = await fetchRaw(trpc.url, path, headers);
      const ours = fromLean[i];
      expect({ name, ...ours }).toEqual({ name, ...theirs });
    }
    // The stream itself: connected, one frame per tracked message with its id, then return.
    const whole = fromLean[0]?.frames ?? [];
    expect(whole[0]).toBe('event: connected\ndata: {"reconnectAfterInactivityMs":30000}\n');
    expect(whole.at(-1)).toBe('event: return\ndata: \n');
    expect(whole.slice(1, -1).every((f) => /^data: \[.*\]\nid: [^\n]+\n$/s.test(f))).toBe(true);
    expect(fromLean[4]?.frames[1]).toMatch(/^event: serialized-error\ndata: \{.*"code":"NOT_FOUND"/);
  });
});

describe('createLeanSseHandler', () => {
  it('takes only single GETs of subscription procedures, pauses on backpressure and returns the iterator when the client leaves', async () => {
    const t = initTRPC.create({ sse: { ping: { enabled: true, intervalMs: 50 } } });
    let pulled = 0;
    let finished = false;
    const router = t.router({
      many: t.procedure.subscription(async function* () {
        try {
          for (let i = 0; i < 100_000; i++) {
            pulled++;
            yield tracked(String(i), 'x'.repeat(1_000));
          }
        } finally {
          finished = true;
        }
      }),
      idle: t.procedure.subscription(async function* ({ signal }) {
        await new Promise((resolve) => signal?.addEventListener('abort', resolve));
      }),
      q: t.procedure.query(() => 1),
    });
    const handle = createLeanSseHandler({ router, basePath: '/t/', createContext: () => ({}), onError: () => {} });
    const server = createServer((req, res) => {
      if (!handle(req, res)) res.writeHead(418).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    for (const path of ['/t/q', '/t/many?batch=1', '/t/many,idle?batch=1', '/t/nope', '/elsewhere/many']) {
      expect((await fetchRaw(base, path)).status).toBe(418);
    }
    const idle = await fetchRaw(base, '/t/idle', {}, 180);
    expect(idle.frames.filter((f) => f === 'event: ping\ndata: \n').length).toBeGreaterThan(0);

    // A client that does not read: the writer stops pulling once the socket buffers are full.
    const res = await new Promise<IncomingMessage>((resolve) => request(`${base}/t/many`, resolve).end());
    res.pause();
    await new Promise((r) => setTimeout(r, 300));
    const whilePaused = pulled;
    await new Promise((r) => setTimeout(r, 200));
    expect(pulled).toBe(whilePaused);
    expect(pulled).toBeLessThan(100_000);
    res.destroy();
    await within(
      new Promise<void>((resolve) => {
        const check = () => (finished ? resolve() : setTimeout(check, 10));
        check();
      }),
      5_000,
      'the iterator to be returned',
    );
    expect(pulled).toBeLessThan(100_000);
  });
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  frames: string[];
}

/** One raw GET: status, headers but the date, and the body split into SSE frames (pings dropped unless kept). */
function fetchRaw(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  stopAfterMs?: number,
): Promise<Raw> {
  return within(
    new Promise<Raw>((resolve, reject) => {
      const req = request(`${base}${path}`, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        const done = () => {
          const { date: _date, ...rest } = res.headers;
          const frames = body.split('\n\n\n').filter((f) => f !== '');
          resolve({
            status: res.statusCode ?? 0,
            headers: rest,
            frames:
              stopAfterMs === undefined
                ? frames.filter((f) => f !== 'event: ping\ndata: \n').map((f) => `${f}\n`)
                : frames.map((f) => `${f}\n`),
          });
        };
        res.on('end', done);
        if (stopAfterMs !== undefined)
          setTimeout(() => {
            done();
            req.destroy();
          }, stopAfterMs);
      });
      req.on('error', reject);
      req.end();
    }),
    15_000,
    `GET ${path}`,
  );
}
