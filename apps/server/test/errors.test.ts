import type { ToolrunErrorData } from '@toolrun/api';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from './helpers.ts';
import { codeOf, collect, createClient, login, startTestServer, TRANSPORTS, within } from './helpers.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let token = '';

beforeAll(async () => {
  server = await startTestServer({
    maxRunInputBytes: 1_024,
    maxBodyBytes: 64 * 1024,
    limits: { maxConcurrentRunsPerUser: 2 },
  });
  token = await login(server.url, 'tester-tom');
});
afterAll(async () => {
  await server.stop();
});

function dataOf(error: unknown): ToolrunErrorData | undefined {
  return error instanceof TRPCClientError ? (error.data as ToolrunErrorData) : undefined;
}

async function errorOf(call: Promise<unknown>): Promise<{ message: string; data: ToolrunErrorData }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) return { message: error.message, data: error.data as ToolrunErrorData };
    throw error;
  }
  throw new Error('the call succeeded');
}

describe.each(TRANSPORTS)('bad inputs over %s', (transport) => {
  let client: Client;
  beforeAll(() => {
    client = createClient(server.url, { transport, token }).client;
  });

  it.each([
    ['a missing field', () => client.runs.start.mutate({} as never), 'agent'],
    ['a string over its bound', () => client.runs.get.query({ runId: 'r'.repeat(500) }), 'runId'],
    ['a number over its bound', () => client.runs.list.query({ limit: 100_000 }), 'limit'],
    [
      'an agent input the agent refuses',
      () => client.runs.start.mutate({ agent: 'slow', input: { steps: -1 } }),
      'steps',
    ],
    [
      'a run input over the size bound',
      () => client.runs.start.mutate({ agent: 'calculator', input: { question: 'x'.repeat(2_000) } }),
      'input',
    ],
  ] as const)('gives BAD_REQUEST with readable issues and no stack for %s', async (_what, call, path) => {
    const { message, data } = await errorOf(call());
    expect(data.code).toBe('BAD_REQUEST');
    expect(data.stack).toBeUndefined();
    expect(data.issues?.length).toBeGreaterThan(0);
    expect(data.issues?.some((i) => i.path.includes(path))).toBe(true);
    expect(message).not.toMatch(/^\s*\[/);
    expect(message).toContain(path);
  });

  it('gives BAD_REQUEST with issues to a subscription with a malformed lastEventId', async () => {
    const stream = collect((cb) => client.runs.feed.subscribe({ lastEventId: 'not-an-event-id' }, cb));
    const error = await within(
      stream.done.then(
        () => undefined,
        (e: unknown) => e,
      ),
      10_000,
      'the refused subscription',
    );
    expect(error).toBeInstanceOf(TRPCClientError);
    const data = dataOf(error);
    expect(data?.code).toBe('BAD_REQUEST');
    expect(data?.issues?.[0]?.path).toBe('lastEventId');
    expect(data?.stack).toBeUndefined();
  });

  it('gives NOT_FOUND for an unknown agent', async () => {
    const { data } = await errorOf(client.runs.start.mutate({ agent: 'no-such-agent', input: {} }));
    expect(data.code).toBe('NOT_FOUND');
    expect(data.reason).toBe('UNKNOWN_AGENT');
  });

  it("gives TOO_MANY_REQUESTS past the concurrent-run limit with onBusy: 'reject' (else queues), and runs again once one ends", async () => {
    const started = [
      await client.runs.start.mutate({ agent: 'slow', input: { steps: 40, delayMs: 250 } }),
      await client.runs.start.mutate({ agent: 'slow', input: { steps: 40, delayMs: 250 } }),
    ];
    const { data } = await errorOf(client.runs.start.mutate({ agent: 'calculator', input: {}, onBusy: 'reject' }));
    expect(data.code).toBe('TOO_MANY_REQUESTS');
    expect(data.reason).toBe('CONCURRENT_RUN_LIMIT');
    // Without onBusy: 'reject' the start waits in the caller's queue instead.
    expect((await client.runs.start.mutate({ agent: 'calculator', input: {} })).queued).toEqual({ position: 1 });
    for (const { runId } of started) {
      const stream = collect((cb) => client.runs.events.subscribe({ runId }, cb));
      await client.runs.cancel.mutate({ runId });
      await within(stream.done, 20_000, 'a cancelled run');
    }
    expect(await codeOf(client.runs.start.mutate({ agent: 'calculator', input: {} }))).toBe('OK');
  });
});

describe('HTTP limits', () => {
  it('refuses a request body over the limit', async () => {
    const res = await fetch(`${server.url}/trpc/runs.start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ agent: 'calculator', input: { question: 'x'.repeat(100 * 1024) } }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { data: ToolrunErrorData } };
    expect(body.error.data.code).toBe('PAYLOAD_TOO_LARGE');
    expect(body.error.data.stack).toBeUndefined();
  });

  it('never sends a stack trace, even for an unauthenticated call over plain HTTP', async () => {
    const res = await fetch(`${server.url}/trpc/auth.me`);
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).not.toContain('stack');
    expect(text).not.toContain('.ts:');
  });
});

describe('development mode', () => {
  it('adds stack traces to error responses, which production never does', async () => {
    const dev = await startTestServer({ development: true });
    try {
      const res = await fetch(`${dev.url}/trpc/runs.list?input=${encodeURIComponent(JSON.stringify({ limit: -1 }))}`, {
        headers: { authorization: `Bearer ${await login(dev.url, 'dev-dana')}` },
      });
      const body = (await res.json()) as { error: { data: ToolrunErrorData } };
      expect(body.error.data.code).toBe('BAD_REQUEST');
      expect(body.error.data.stack).toContain('Error');
    } finally {
      await dev.stop();
    }
  });
});

describe('rate limit', () => {
  it('gives TOO_MANY_REQUESTS (RATE_LIMITED) once a user has used up their tokens', async () => {
    const limited = await startTestServer({ limits: { rateLimit: { user: { capacity: 3, refillPerSecond: 0.001 } } } });
    try {
      const { client } = createClient(limited.url, { transport: 'sse', token: await login(limited.url, 'rapid-rex') });
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const { data } = await errorOf(
          client.runs.start.mutate({ agent: 'slow', input: { steps: 1, delayMs: 0 } }),
        ).catch(() => ({ data: { reason: 'OK' } as ToolrunErrorData }));
        outcomes.push(data.reason ?? data.code);
      }
      expect(outcomes).toContain('RATE_LIMITED');
      const { data } = await errorOf(client.runs.start.mutate({ agent: 'calculator', input: {} }));
      expect(data.code).toBe('TOO_MANY_REQUESTS');
    } finally {
      await limited.stop();
    }
  });
});
