import { join } from 'node:path';
import type { RunEvent } from '@toolrun/api';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { HttpServer } from '../src/index.ts';
import { createHttpServer } from '../src/index.ts';
import { createClient, eventually, login, startTestServer } from './helpers.ts';

/**
 * The server's own WebSocket handler (`ws: 'lean'`, the default, `src/wsSubscriptions.ts`) against
 * tRPC's `applyWSSHandler` (`ws: 'trpc'`) serving the same services: the same requests, sent raw,
 * must get the same bytes back, message for message.
 */

type Started = Awaited<ReturnType<typeof startTestServer>>;
let lean: Started;
let stock: HttpServer;
let stockUrl: string;
let token: string;
let runId: string;
let events: RunEvent[];

beforeAll(async () => {
  lean = await startTestServer();
  stock = createHttpServer({
    services: lean.services,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    consoleDir: join(lean.dir, 'no-console'),
    maxBodyBytes: 1_048_576,
    isShuttingDown: () => false,
    health: () => Promise.reject(new Error('not asked in this test')),
    ws: 'trpc',
  });
  await new Promise<void>((resolve) => stock.server.listen(0, '127.0.0.1', resolve));
  const address = stock.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  stockUrl = `http://127.0.0.1:${address.port}`;
  token = await login(lean.url, 'alice');
  const { client, close } = createClient(lean.url, { transport: 'sse', token });
  ({ runId } = await client.runs.start.mutate({ agent: 'parallel', input: { slowSteps: 1 } }));
  events = await eventually(async () => {
    const stored = await lean.services.db.eventsAfter(runId, 0);
    return stored.at(-1)?.type === 'agent_completed' ? stored : undefined;
  });
  close();
});

afterAll(async () => {
  for (const client of stock.wss.clients) client.terminate();
  await new Promise((resolve) => stock.server.close(resolve));
  await lean.stop();
});

/** One step of a conversation: raw frames to send, and the message that ends the step. */
interface Step {
  send: (string | Buffer)[];
  until: (message: { id?: unknown; result?: { type?: string; id?: string }; error?: unknown }) => boolean;
}

/**
 * Plays `steps` over one raw WebSocket (with `connectionParams`), each step closed by an `auth.me`
 * query sent once its last message came: everything the server wrote before that answer belongs to
 * the step. Returns every text frame, in order.
 */
async function converse(baseUrl: string, steps: Step[]): Promise<string[]> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
  const texts: string[] = [];
  let waiting: ((text: string) => void) | undefined;
  ws.on('message', (data) => {
    const text = String(data);
    texts.push(text);
    waiting?.(text);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
  const next = (done: (message: ReturnType<typeof JSON.parse>) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no end of step after: ${texts.slice(-3).join(' | ')}`)), 10_000);
      waiting = (text) => {
        if (!done(JSON.parse(text))) return;
        clearTimeout(timer);
        waiting = undefined;
        resolve();
      };
    });
  for (const [index, step] of steps.entries()) {
    const ended = next(step.until);
    for (const frame of step.send) ws.send(frame);
    await ended;
    const sentinel = `end-of-step-${index}`;
    const answered = next((m) => m.id === sentinel);
    ws.send(JSON.stringify({ id: sentinel, method: 'query', params: { path: 'auth.me' } }));
    await answered;
  }
  ws.close();
  return texts;
}

const subscribe = (id: number | string, path: string, input: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, jsonrpc: '2.0', method: 'subscription', params: { path, input, ...extra } });
const ends =
  (id: unknown, ...types: string[]) =>
  (m: { id?: unknown; result?: { type?: string }; error?: unknown }) =>
    m.id === id && (m.error !== undefined || types.includes(m.result?.type ?? ''));

describe('the lean WebSocket handler', () => {
  it('answers every kind of request with the bytes tRPC’s own adapter writes', async () => {
    const third = events[2]?.id ?? '';
    const steps = (): Step[] => [
      // A finished run from the start, in pages, then `stopped`; with and without `jsonrpc`, resumed.
      { send: [subscribe(1, 'runs.events', { runId })], until: ends(1, 'stopped') },
      {
        send: [
          JSON.stringify({
            id: 'two',
            method: 'subscription',
            params: { path: 'runs.events', input: { runId }, lastEventId: third },
          }),
        ],
        until: ends('two', 'stopped'),
      },
      // Refusals: a missing run (inside the stream: error, then stopped), bad input, a wrong method.
      { send: [subscribe(3, 'runs.events', { runId: 'run_missing' })], until: ends(3, 'stopped') },
      { send: [subscribe(4, 'runs.events', { runId: 5 })], until: ends(4) },
      { send: [subscribe(5, 'auth.me', null)], until: ends(5) },
      {
        send: [JSON.stringify({ id: 6, method: 'query', params: { path: 'runs.events', input: { runId } } })],
        until: ends(6),
      },
      {
        send: [JSON.stringify({ id: 7, method: 'mutation', params: { path: 'runs.cancel', input: {} } })],
        until: ends(7),
      },
      { send: [JSON.stringify({ id: 8, method: 'query', params: { path: 'no.such' } })], until: ends(8) },
      // Broken frames: JSON, a null id, binary, a batch of two queries.
      { send: ['{nope'], until: ends(null) },
      { send: [JSON.stringify({ id: null, method: 'query', params: { path: 'auth.me' } })], until: ends(null) },
      { send: [Buffer.from('{}')], until: ends(null) },
      {
        send: [
          JSON.stringify([
            { id: 9, method: 'query', params: { path: 'auth.me' } },
            { id: 10, method: 'query', params: { path: 'auth.me' } },
          ]),
        ],
        until: ends(10, 'data'),
      },
      // A feed resumed from the run's first event, stopped by the client; a duplicate id refused.
      {
        send: [subscribe(11, 'runs.feed', { lastEventId: events[0]?.id })],
        until: (m) => m.id === 11 && m.result?.id === events.at(-1)?.id,
      },
      { send: [subscribe(11, 'runs.feed', {})], until: ends(11) },
      { send: [JSON.stringify({ id: 11, method: 'subscription.stop' })], until: ends(11, 'stopped') },
    ];
    const fromLean = await converse(lean.url, steps());
    const fromStock = await converse(stockUrl, steps());
    expect(fromLean).toEqual(fromStock);
    // The exchange covered what it claims: tracked events, both refusals, stopped messages.
    const all = fromLean.join('\n');
    expect(all).toContain(`"result":{"type":"data","data":{"id":"${events.at(-1)?.id}","data":[`);
    for (const text of ['NOT_FOUND', 'BAD_REQUEST', 'PARSE_ERROR', 'Duplicate id 11']) expect(all).toContain(text);
    expect(fromLean.filter((text) => text.includes('"type":"stopped"'))).toHaveLength(4);
  });

  it('writes live events as tRPC does: each message what JSON.stringify gives for its parsed form', async () => {
    const follow = (baseUrl: string) =>
      new Promise<string[]>((resolve, reject) => {
        const frames: string[] = [];
        let started = () => {};
        ready.push(new Promise<void>((r) => (started = r)));
        const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
        ws.once('error', reject);
        ws.on('message', (data) => {
          const text = String(data);
          const message = JSON.parse(text) as { result?: { type?: string; data?: { data?: RunEvent[] } } };
          if (message.result?.type === 'started') started();
          if (message.result?.type !== 'data') return;
          frames.push(text);
          if (message.result.data?.data?.some((e) => e.type === 'agent_completed')) {
            ws.close();
            resolve(frames);
          }
        });
        ws.once('open', () => {
          ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
          ws.send(subscribe(1, 'runs.feed', {}));
        });
      });
    const ready: Promise<void>[] = [];
    const leanFrames = follow(lean.url);
    const stockFrames = follow(stockUrl);
    await Promise.all(ready);
    const { client, close } = createClient(lean.url, { transport: 'sse', token });
    await client.runs.start.mutate({ agent: 'parallel', input: { slowSteps: 1 } });
    close();
    const [a, b] = await Promise.all([leanFrames, stockFrames]);
    const eventsOf = (frames: string[]) =>
      frames.flatMap((text) => (JSON.parse(text) as { result: { data: { data: RunEvent[] } } }).result.data.data);
    for (const text of [...a, ...b]) {
      const { id, jsonrpc, result } = JSON.parse(text) as {
        id: number;
        jsonrpc: string;
        result: { id: string; data: unknown };
      };
      const tracked = result.data as { id: string; data: unknown };
      expect(text).toBe(
        JSON.stringify({
          id,
          jsonrpc,
          result: { type: 'data', data: { id: tracked.id, data: tracked.data }, id: result.id },
        }),
      );
    }
    expect(eventsOf(a).length).toBeGreaterThan(4);
    expect(eventsOf(a)).toEqual(eventsOf(b));
  });
});
