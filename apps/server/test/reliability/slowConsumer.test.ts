import type { Socket } from 'node:net';
import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Transport } from '../helpers.ts';
import { collect, createClient, eventually, login, startTestServer, within } from '../helpers.ts';
import { chattyAgent } from './support/chattyAgent.ts';
import { reportFigures } from './support/figures.ts';
import { heapAfterGc, mb } from './support/memory.ts';
import { reliabilityParams } from './support/params.ts';
import type { RawStream, RawSubscription } from './support/rawStreams.ts';
import { openRawSse, openRawWs } from './support/rawStreams.ts';

const params = reliabilityParams();
const EVENT_CHARS = 2_000;
// The hub's per-subscriber queue bound for this server: small, so the bound is reached at CI size.
const MAX_QUEUED_EVENTS = 1_000;

let server: Awaited<ReturnType<typeof startTestServer>>;
const serverSockets = new Map<number, Socket>();
let other: Client;

beforeAll(async () => {
  server = await startTestServer({ extraAgents: [chattyAgent], maxQueuedEvents: MAX_QUEUED_EVENTS });
  server.http.server.on('connection', (socket) => {
    const port = socket.remotePort;
    if (port === undefined) return;
    serverSockets.set(port, socket);
    socket.once('close', () => serverSockets.delete(port));
  });
  other = createClient(server.url, { transport: 'ws', token: await login(server.url, 'bystander-bea') }).client;
});
afterAll(async () => {
  await server.stop();
});

/** Time from `runs.start` to the client receiving `agent_completed`, for `n` calculator runs one after another. */
async function latencies(client: Client, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const began = performance.now();
    const { runId } = await client.runs.start.mutate({ agent: 'calculator', input: {} });
    await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 30_000, 'a bystander run');
    out.push(Math.round(performance.now() - began));
  }
  return out;
}

const summary = (ms: number[]) => ({
  p50: [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)] ?? 0,
  max: Math.max(0, ...ms),
});

const open = (transport: Transport, sub: RawSubscription): Promise<RawStream> =>
  transport === 'sse' ? openRawSse(sub) : openRawWs(sub);

describe.each(['sse', 'ws'] as const)('a subscriber that stops reading, over %s', (transport) => {
  it.each(['runs.events', 'runs.feed'] as const)(
    '%s: the server buffers a bounded amount for it however much is produced, others are served meanwhile, and it can resume with nothing lost or repeated',
    { timeout: 120_000 },
    async (path) => {
      const userId = `stuck-${transport}-${path.replace('.', '-')}`;
      const token = await login(server.url, userId);
      const owner = createClient(server.url, { transport: 'sse', token }).client;
      const before = await latencies(other, 5);
      const baseline = await heapAfterGc();
      const thoughts = params.stuckEvents;
      const volumeBytes = thoughts * EVENT_CHARS;

      let runId = '';
      let stuck: RawStream;
      if (path === 'runs.events') {
        ({ runId } = await owner.runs.start.mutate({ agent: 'chatty', input: { thoughts, size: EVENT_CHARS } }));
        stuck = await open(transport, { baseUrl: server.url, path, input: { runId }, token });
      } else {
        stuck = await open(transport, { baseUrl: server.url, path, input: {}, token });
        await eventually(() => (server.services.subscriptions().feeds > 0 ? true : undefined));
        ({ runId } = await owner.runs.start.mutate({ agent: 'chatty', input: { thoughts, size: EVENT_CHARS } }));
      }
      stuck.pause();

      // While the run produces its events into a consumer that reads nothing: the server's buffer for it, and a bystander.
      let peakBuffered = 0;
      let peakHeap = 0;
      const sampler = setInterval(() => {
        peakBuffered = Math.max(peakBuffered, serverSockets.get(stuck.localPort)?.writableLength ?? 0);
        peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      }, 20);
      const during = await latencies(other, 5);
      await eventually(
        async () => ((await server.services.db.getRunRecord(runId))?.status === 'completed' ? true : undefined),
        60_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      clearInterval(sampler);
      const heldWhileStuck = await heapAfterGc();
      const bufferedWhileStuck = serverSockets.get(stuck.localPort)?.writableLength ?? 0;

      // It reads again: what it gets, plus a resume from its last id if the server let it go, is the whole run.
      stuck.resume();
      const stored = (await server.services.db.getRun(runId))?.events ?? [];
      const ofRun = (events: readonly RunEvent[]) => events.filter((e) => e.runId === runId);
      await within(
        eventually(
          () => (ofRun(stuck.events).at(-1)?.type === 'agent_completed' || stuck.ended() !== 'open' ? true : undefined),
          60_000,
        ),
        90_000,
        'the stuck consumer catching up',
      );
      const received = [...stuck.events];
      let resumed = 0;
      if (ofRun(received).at(-1)?.type !== 'agent_completed') {
        const lastEventId = stuck.lastEventId();
        stuck.close();
        const again = await open(transport, {
          baseUrl: server.url,
          path,
          input:
            path === 'runs.events'
              ? { runId, ...(lastEventId ? { lastEventId } : {}) }
              : lastEventId
                ? { lastEventId }
                : {},
          token,
        });
        await within(
          eventually(() => (ofRun(again.events).at(-1)?.type === 'agent_completed' ? true : undefined), 60_000),
          90_000,
          'the resumed consumer',
        );
        resumed = again.events.length;
        received.push(...again.events);
        again.close();
      }
      stuck.close();

      reportFigures(`stuck-${transport}-${path}${params.soak ? '-soak' : ''}`, {
        events: thoughts + 2,
        volumeMb: mb(volumeBytes),
        maxQueuedEvents: MAX_QUEUED_EVENTS,
        peakServerBufferedMb: mb(peakBuffered),
        serverBufferedAfterRunMb: mb(bufferedWhileStuck),
        heapRetainedWhileStuckMb: mb(heldWhileStuck - baseline),
        peakHeapAboveBaselineMb: mb(peakHeap - baseline),
        endedBy: stuck.ended(),
        eventsAfterResume: resumed,
        bystanderMsBefore: summary(before),
        bystanderMsDuring: summary(during),
      });

      expect(stuck.errors).toEqual([]);
      expect(ofRun(received).map((e) => e.id)).toEqual(stored.map((e) => e.id));
      expect(ofRun(received)).toEqual(stored);
      // Bounded, not proportional to what was produced: a generous quarter of the volume.
      expect(peakBuffered).toBeLessThan(volumeBytes / 4);
      expect(heldWhileStuck - baseline).toBeLessThan(volumeBytes / 2);
      expect(during).toHaveLength(5);
    },
  );
});
