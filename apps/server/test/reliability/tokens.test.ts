import { createHmac } from 'node:crypto';
import type { RunEvent } from '@toolrun/api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Transport } from '../helpers.ts';
import { codeOf, collect, createClient, login, startTestServer, TEST_SECRET, TRANSPORTS, within } from '../helpers.ts';
import { reliabilityParams } from './support/params.ts';
import { rawCall } from './support/rawCall.ts';

const params = reliabilityParams();
let server: Awaited<ReturnType<typeof startTestServer>>;
let ownerToken = '';
let otherToken = '';
let adminToken = '';
let ownRun = '';
let othersRun = '';
let othersEvents: RunEvent[] = [];

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT made by hand: any header, any claims, signed with HMAC (`hash`) or not at all. */
function jwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  sign?: { secret?: string; hash?: string },
): string {
  const body = `${b64(header)}.${b64(claims)}`;
  if (sign === undefined) return `${body}.`;
  return `${body}.${createHmac(sign.hash ?? 'sha256', sign.secret ?? TEST_SECRET)
    .update(body)
    .digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({
  sub: 'owner-olivia',
  roles: ['user'],
  iss: 'toolrun-dev',
  aud: 'toolrun',
  iat: now(),
  exp: now() + 3_600,
  ...extra,
});

// Every token here must be refused; each names how it is wrong.
const BAD_TOKENS: readonly [string, () => string][] = [
  ['expired', () => jwt({ alg: 'HS256' }, claims({ exp: now() - 3_600 }), {})],
  [
    'forged (another secret)',
    () => jwt({ alg: 'HS256' }, claims(), { secret: 'an-attacker-secret-of-at-least-32-chars' }),
  ],
  ['unsigned, alg none', () => jwt({ alg: 'none' }, claims())],
  ['unsigned, alg None', () => jwt({ alg: 'None' }, claims())],
  ['unsigned, alg NONE', () => jwt({ alg: 'NONE' }, claims())],
  ['unsigned, alg HS256 with an empty signature', () => jwt({ alg: 'HS256' }, claims())],
  ['unsigned, two parts only', () => `${b64({ alg: 'none' })}.${b64(claims())}`],
  ['wrong algorithm, HS512 with the right secret', () => jwt({ alg: 'HS512' }, claims(), { hash: 'sha512' })],
  ['wrong algorithm, HS384 with the right secret', () => jwt({ alg: 'HS384' }, claims(), { hash: 'sha384' })],
  ['algorithm confusion, RS256 header signed with HMAC', () => jwt({ alg: 'RS256' }, claims(), {})],
  [
    'tampered payload, admin role added after signing',
    () => {
      const [h, , s] = jwt({ alg: 'HS256' }, claims(), {}).split('.');
      return `${h}.${b64(claims({ roles: ['user', 'admin'] }))}.${s}`;
    },
  ],
  [
    'embedded key (jwk header) signed by that key',
    () =>
      jwt({ alg: 'HS256', jwk: { kty: 'oct', k: b64('attacker-key-attacker-key-attacker-key') } }, claims(), {
        secret: 'attacker-key-attacker-key-attacker-key',
      }),
  ],
  ['unknown critical header', () => jwt({ alg: 'HS256', crit: ['x-unknown'], 'x-unknown': 1 }, claims(), {})],
  ['wrong issuer', () => jwt({ alg: 'HS256' }, claims({ iss: 'someone-else' }), {})],
  ['wrong audience', () => jwt({ alg: 'HS256' }, claims({ aud: 'another-service' }), {})],
  ['not valid yet (nbf in an hour)', () => jwt({ alg: 'HS256' }, claims({ nbf: now() + 3_600 }), {})],
  ['no subject', () => jwt({ alg: 'HS256' }, claims({ sub: undefined }), {})],
  ['placeholder subject anonymous', () => jwt({ alg: 'HS256' }, claims({ sub: 'anonymous' }), {})],
  ['placeholder subject default', () => jwt({ alg: 'HS256' }, claims({ sub: 'default' }), {})],
  ['subject with a control character', () => jwt({ alg: 'HS256' }, claims({ sub: 'owner\u0000olivia' }), {})],
  ['exp as a string', () => jwt({ alg: 'HS256' }, claims({ exp: 'never' }), {})],
  ['garbage', () => 'not.a.jwt'],
  ['over the 8 KiB token bound', () => jwt({ alg: 'HS256' }, claims({ pad: 'x'.repeat(9_000) }), {})],
];

beforeAll(async () => {
  server = await startTestServer();
  ownerToken = await login(server.url, 'owner-olivia');
  otherToken = await login(server.url, 'other-otto');
  adminToken = await login(server.url, 'admin-abe', 'admin');
  const run = async (token: string) => {
    const { client } = createClient(server.url, { transport: 'sse', token });
    const { runId } = await client.runs.start.mutate({ agent: 'research', input: {} });
    const events = (
      await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 20_000, 'a run')
    ).flatMap((m) => m.events);
    return { runId, events };
  };
  ownRun = (await run(ownerToken)).runId;
  ({ runId: othersRun, events: othersEvents } = await run(otherToken));
}, 60_000);
afterAll(async () => {
  await server.stop();
});

/** Subscribes and resolves with what arrived: events, or the error code. */
async function subscribeOutcome(
  subscribe: Parameters<typeof collect>[0],
): Promise<{ code: string; events: RunEvent[] }> {
  const stream = collect(subscribe);
  try {
    await within(stream.done, 15_000, 'a subscription');
    return { code: 'OK', events: stream.events() };
  } catch (error) {
    return { code: await codeOf(Promise.reject(error)), events: stream.events() };
  } finally {
    stream.unsubscribe();
  }
}

describe.each(TRANSPORTS)('tokens over %s', (transport: Transport) => {
  it('accepts the control token (the same claims, rightly signed): the refusals below are about the flaw, not the claims', async () => {
    const c = createClient(server.url, { transport, token: jwt({ alg: 'HS256', typ: 'JWT' }, claims(), {}) });
    expect((await c.client.auth.me.query()).userId).toBe('owner-olivia');
    c.close();
  });

  it.each(BAD_TOKENS)(
    'refuses a token that is %s: UNAUTHORIZED on calls and subscriptions, with a readable message and no stack',
    async (_what, make) => {
      const c = createClient(server.url, { transport, token: make() });
      const refused = await c.client.auth.me.query().catch((e: unknown) => e);
      expect(await codeOf(Promise.reject(refused))).toBe('UNAUTHORIZED');
      const data = (refused as { data?: { stack?: unknown; reason?: unknown } }).data;
      expect(data?.stack).toBeUndefined();
      expect(['INVALID_TOKEN', 'EXPIRED_TOKEN']).toContain(data?.reason);
      expect(String((refused as Error).message)).not.toContain(TEST_SECRET);
      const sub = await subscribeOutcome((cb) => c.client.runs.events.subscribe({ runId: ownRun }, cb));
      expect(sub).toEqual({ code: 'UNAUTHORIZED', events: [] });
      c.close();
    },
  );
});

describe('tokens over a long-lived WebSocket', () => {
  it('refuses calls on a connection once its token has expired', { timeout: 20_000 }, async () => {
    const c = createClient(server.url, {
      transport: 'ws',
      token: jwt({ alg: 'HS256' }, claims({ exp: now() + 2 }), {}),
    });
    expect(await codeOf(c.client.auth.me.query())).toBe('OK');
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    expect(await codeOf(c.client.auth.me.query())).toBe('UNAUTHORIZED');
    c.close();
  });
});

describe("guessing another run's event id", () => {
  const clientsOf = (token: string) =>
    Object.fromEntries(TRANSPORTS.map((t) => [t, createClient(server.url, { transport: t, token })]));

  it("replays nothing of it, whatever seq is guessed, on a run stream or a feed, over SSE and WebSocket, for a user or an admin's own feed", {
    timeout: 120_000,
  }, async () => {
    const owner = clientsOf(ownerToken);
    const admin = clientsOf(adminToken);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: othersEvents.length + 3 }),
        fc.constantFrom(...TRANSPORTS),
        fc.constantFrom('events' as const, 'feed' as const, 'admin feed' as const),
        async (seq, transport, where) => {
          const guess = `${othersRun}:${seq}`;
          const c: Client = (where === 'admin feed' ? admin : owner)[transport]?.client as Client;
          const outcome = await subscribeOutcome((cb) =>
            where === 'events'
              ? c.runs.events.subscribe({ runId: ownRun, lastEventId: guess }, cb)
              : c.runs.feed.subscribe({ lastEventId: guess }, cb),
          );
          expect(outcome.events.filter((e) => e.runId === othersRun)).toEqual([]);
          expect(['BAD_REQUEST', 'NOT_FOUND']).toContain(outcome.code);
        },
      ),
      { numRuns: Math.max(20, params.fuzzRuns), seed: params.seed },
    );
    for (const c of [...Object.values(owner), ...Object.values(admin)]) c?.close();
  });

  it('replays nothing of it through the SSE Last-Event-ID header either', async () => {
    const events = { path: 'runs.events', type: 'subscription' } as const;
    const answer = await rawCall({
      baseUrl: server.url,
      procedure: events,
      body: JSON.stringify({ runId: ownRun }),
      query: { connectionParams: JSON.stringify({ token: ownerToken }) },
      headers: { 'last-event-id': `${othersRun}:1` },
    });
    expect(answer.text).not.toContain(othersRun);
    expect(answer.errors.map((e) => e.data?.code)).toEqual(['BAD_REQUEST']);
  });

  it('says the same of an event id that exists (someone else’s) as of one that does not: no existence oracle', async () => {
    const { client } = createClient(server.url, { transport: 'sse', token: ownerToken });
    const missing = `run_${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`;
    for (const subscribe of [
      (id: string) => (cb: Parameters<Parameters<typeof collect>[0]>[0]) =>
        client.runs.feed.subscribe({ lastEventId: `${id}:2` }, cb),
      (id: string) => (cb: Parameters<Parameters<typeof collect>[0]>[0]) =>
        client.runs.events.subscribe({ runId: ownRun, lastEventId: `${id}:2` }, cb),
    ]) {
      const message = async (id: string) => {
        const stream = collect(subscribe(id));
        const error = await within(
          stream.done.then(
            () => undefined,
            (e: unknown) => e,
          ),
          15_000,
          'a refused subscription',
        );
        return JSON.stringify({
          message: (error as Error).message,
          data: (error as { data?: unknown }).data,
        }).replaceAll(id, '<run>');
      };
      expect(await message(othersRun)).toBe(await message(missing));
    }
  });
});
