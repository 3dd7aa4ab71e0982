import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { StartServerOptions } from '../src/index.ts';
import { collect, createClient, login, startTestServer, type Transport, within } from './helpers.ts';

type Agent = NonNullable<StartServerOptions['extraAgents']>[number];

// Runs of the test agent wait here until the test has its subscribers live, so their events are
// delivered live (from the hub), not read back from the database.
const gates = new Map<string, () => void>();
const gateInput = z.object({ gate: z.string(), thoughts: z.number().int().min(1).max(100) }).strict();

/** Waits at its gate, then thinks `thoughts` times, a timer tick apart. */
const gatedAgent: Agent = {
  name: 'gated_thinker',
  description: 'Test agent: waits for the test, then thinks a few times.',
  input: gateInput,
  async run(input, ctx) {
    const { gate, thoughts } = gateInput.parse(input);
    await new Promise<void>((resolve) => gates.set(gate, resolve));
    for (let i = 1; i <= thoughts; i += 1) {
      ctx.think(`thought ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return { thoughts };
  },
};

let server: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  server = await startTestServer({ extraAgents: [gatedAgent] });
});
afterAll(async () => {
  await server.stop();
});

/** The delivery histogram's samples by their full name with labels (`…_bucket{le="0.001",transport="ws"}`). */
async function deliverySamples(): Promise<Map<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('toolrun_event_delivery_seconds')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

const count = (samples: Map<string, number>, transport: Transport) =>
  samples.get(`toolrun_event_delivery_seconds_count{transport="${transport}"}`) ?? Number.NaN;

/** Starts a gated run, follows it over both transports, opens the gate once both streams are live. */
async function followLiveRun(token: string, gate: string, thoughts: number): Promise<void> {
  const ws = createClient(server.url, { transport: 'ws', token });
  const sse = createClient(server.url, { transport: 'sse', token });
  try {
    const { runId } = await sse.client.runs.start.mutate({ agent: gatedAgent.name, input: { gate, thoughts } });
    const streams = [ws, sse].map(({ client }) => collect((cb) => client.runs.events.subscribe({ runId }, cb)));
    // Each stream's first message is agent_started, read from the database: the stream is live.
    await within(Promise.all(streams.map((s) => s.waitForEvents(1))), 15_000, 'both streams live');
    await within(
      (async () => {
        while (!gates.has(gate)) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
      15_000,
      'the run at its gate',
    );
    gates.get(gate)?.();
    const done = await within(Promise.all(streams.map((s) => s.done)), 20_000, 'both streams');
    for (const messages of done) expect(messages.flatMap((m) => m.events)).toHaveLength(thoughts + 2);
  } finally {
    ws.close();
    sse.close();
  }
}

describe('toolrun_event_delivery_seconds', () => {
  it('is exported per transport from the start, both series at zero', async () => {
    const samples = await deliverySamples();
    for (const transport of ['ws', 'sse'] as const) {
      expect(count(samples, transport)).toBe(0);
      expect(samples.get(`toolrun_event_delivery_seconds_bucket{le="0.01",transport="${transport}"}`)).toBe(0);
    }
  });

  it('observes every live event once per transport that hands it to a socket, and only grows', async () => {
    const token = await login(server.url, 'latency-lena');
    const before = await deliverySamples();
    await followLiveRun(token, 'first', 5);
    const middle = await deliverySamples();
    // The live events: five thoughts and agent_completed (agent_started came from the database).
    for (const transport of ['ws', 'sse'] as const) expect(count(middle, transport) - count(before, transport)).toBe(6);
    await followLiveRun(token, 'second', 3);
    const after = await deliverySamples();
    for (const transport of ['ws', 'sse'] as const) expect(count(after, transport) - count(middle, transport)).toBe(4);

    // Monotonic: no sample (bucket, sum, count) of either series ever goes down between scrapes.
    for (const [name, value] of middle) {
      expect(value, name).toBeGreaterThanOrEqual(before.get(name) ?? 0);
      expect(after.get(name), name).toBeGreaterThanOrEqual(value);
    }
    // Cumulative buckets, ending in +Inf = count; the sum is a real (positive) time.
    for (const transport of ['ws', 'sse'] as const) {
      const buckets = [...after]
        .filter(([name]) => name.startsWith('toolrun_event_delivery_seconds_bucket') && name.includes(transport))
        .map(([, value]) => value);
      expect(buckets.length).toBeGreaterThan(10);
      for (let i = 1; i < buckets.length; i += 1) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1] ?? 0);
      expect(buckets.at(-1)).toBe(count(after, transport));
      expect(after.get(`toolrun_event_delivery_seconds_sum{transport="${transport}"}`)).toBeGreaterThan(0);
    }
  });

  it('does not count history read back from the database (a finished run replayed)', async () => {
    const token = await login(server.url, 'latency-lena');
    const { client } = createClient(server.url, { transport: 'sse', token });
    const { runId } = await client.runs.start.mutate({ agent: 'calculator', input: {} });
    await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 20_000, 'the run');
    const before = await deliverySamples();
    const ws = createClient(server.url, { transport: 'ws', token });
    try {
      const replays = [ws.client, client].map((c) => collect((cb) => c.runs.events.subscribe({ runId }, cb)));
      const done = await within(Promise.all(replays.map((r) => r.done)), 20_000, 'the replays');
      for (const messages of done) expect(messages.flatMap((m) => m.events).at(-1)?.type).toBe('agent_completed');
    } finally {
      ws.close();
    }
    const after = await deliverySamples();
    for (const transport of ['ws', 'sse'] as const) expect(count(after, transport)).toBe(count(before, transport));
  });
});
