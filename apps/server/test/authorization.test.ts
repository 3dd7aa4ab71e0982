import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from './helpers.ts';
import { codeOf, collect, createClient, handMadeJwt, login, startTestServer, within } from './helpers.ts';

type Who = 'anonymous' | 'owner' | 'other' | 'admin';
const WHO: readonly Who[] = ['anonymous', 'owner', 'other', 'admin'];

let server: Awaited<ReturnType<typeof startTestServer>>;
const clients = {} as Record<Who, Client>;
let ownersRun = '';
let auditId = '';

/** Subscribes; resolves once a message or the completion arrives, rejects with the subscription's error. */
function subscription(subscribe: Parameters<typeof collect>[0]): Promise<unknown> {
  const stream = collect(subscribe);
  const firstEvent = stream.waitForEvents(1, 15_000);
  firstEvent.catch(() => {});
  const firstSign = Promise.race([stream.done, firstEvent]);
  return within(firstSign, 15_000, 'a subscription').finally(() => stream.unsubscribe());
}

beforeAll(async () => {
  server = await startTestServer();
  clients.anonymous = createClient(server.url, { transport: 'sse' }).client;
  clients.owner = createClient(server.url, { transport: 'sse', token: await login(server.url, 'owner-ann') }).client;
  clients.other = createClient(server.url, { transport: 'sse', token: await login(server.url, 'other-oscar') }).client;
  clients.admin = createClient(server.url, {
    transport: 'sse',
    token: await login(server.url, 'admin-ada', 'admin'),
  }).client;
  ({ runId: ownersRun } = await clients.owner.runs.start.mutate({ agent: 'calculator', input: {} }));
  await within(collect((cb) => clients.owner.runs.events.subscribe({ runId: ownersRun }, cb)).done, 20_000, 'the run');
  const audit = await clients.admin.audit.isolation.run.mutate({ users: 2, runsPerUser: 1 });
  auditId = audit.id;
});
afterAll(async () => {
  await server.stop();
});

// Each row: a procedure call and the expected outcome for anonymous, the owner, another user and an admin.
const TABLE: readonly [string, (c: Client) => Promise<unknown>, Record<Who, string>][] = [
  [
    'auth.login',
    (c) => c.auth.login.mutate({ userId: 'someone-new' }),
    { anonymous: 'OK', owner: 'OK', other: 'OK', admin: 'OK' },
  ],
  ['auth.me', (c) => c.auth.me.query(), { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'OK', admin: 'OK' }],
  ['tools.list', (c) => c.tools.list.query(), { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'OK', admin: 'OK' }],
  ['agents.list', (c) => c.agents.list.query(), { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'OK', admin: 'OK' }],
  [
    'tools.run',
    (c) => c.tools.run.mutate({ tool: 'calculator', input: { expression: '1+1' } }),
    { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'OK', admin: 'OK' },
  ],
  [
    'runs.start',
    (c) => c.runs.start.mutate({ agent: 'calculator', input: {} }),
    { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'OK', admin: 'OK' },
  ],
  [
    'runs.events (owner’s run)',
    (c) => subscription((cb) => c.runs.events.subscribe({ runId: ownersRun }, cb)),
    { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'NOT_FOUND', admin: 'NOT_FOUND' },
  ],
  [
    'runs.feed',
    (c) => subscription((cb) => c.runs.feed.subscribe({ lastEventId: `${ownersRun}:1` }, cb)),
    { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'BAD_REQUEST', admin: 'BAD_REQUEST' },
  ],
  [
    "runs.feed scope 'all'",
    (c) => subscription((cb) => c.runs.feed.subscribe({ scope: 'all', lastEventId: `${ownersRun}:1` }, cb)),
    { anonymous: 'UNAUTHORIZED', owner: 'FORBIDDEN', other: 'FORBIDDEN', admin: 'OK' },
  ],
  [
    'runs.cancel (owner’s run)',
    (c) => c.runs.cancel.mutate({ runId: ownersRun }),
    { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'NOT_FOUND', admin: 'NOT_FOUND' },
  ],
  ['runs.list', (c) => c.runs.list.query(), { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'OK', admin: 'OK' }],
  [
    'runs.list { userId } of the owner',
    (c) => c.runs.list.query({ limit: 5, userId: 'owner-ann' }),
    { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'FORBIDDEN', admin: 'OK' },
  ],
  [
    "runs.list scope 'all'",
    (c) => c.runs.list.query({ limit: 5, scope: 'all' }),
    { anonymous: 'UNAUTHORIZED', owner: 'FORBIDDEN', other: 'FORBIDDEN', admin: 'OK' },
  ],
  [
    'runs.get (owner’s run)',
    (c) => c.runs.get.query({ runId: ownersRun }),
    { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'NOT_FOUND', admin: 'OK' },
  ],
  [
    'audit.isolation.run',
    (c) => c.audit.isolation.run.mutate({ users: 1, runsPerUser: 1 }),
    { anonymous: 'UNAUTHORIZED', owner: 'FORBIDDEN', other: 'FORBIDDEN', admin: 'OK' },
  ],
  [
    'audit.list',
    (c) => c.audit.list.query(),
    { anonymous: 'UNAUTHORIZED', owner: 'FORBIDDEN', other: 'FORBIDDEN', admin: 'OK' },
  ],
  [
    'audit.get',
    (c) => c.audit.get.query({ id: auditId }),
    { anonymous: 'UNAUTHORIZED', owner: 'FORBIDDEN', other: 'FORBIDDEN', admin: 'OK' },
  ],
  [
    'metrics.snapshot',
    (c) => c.metrics.snapshot.query(),
    { anonymous: 'UNAUTHORIZED', owner: 'OK', other: 'OK', admin: 'OK' },
  ],
];

describe('authorization of every procedure', () => {
  it.each(TABLE)('%s', async (_name, call, expected) => {
    const actual = {} as Record<Who, string>;
    for (const who of WHO) actual[who] = await codeOf(call(clients[who]));
    expect(actual).toEqual(expected);
  });

  it('shows admin tools and agents to admins only', async () => {
    const userTools = (await clients.owner.tools.list.query()).map((t) => t.name);
    const adminTools = (await clients.admin.tools.list.query()).map((t) => t.name);
    expect(userTools).not.toContain('cancel_run');
    expect(adminTools).toContain('cancel_run');
    expect((await clients.owner.agents.list.query()).map((a) => a.name)).not.toContain('admin');
    expect((await clients.admin.agents.list.query()).map((a) => a.name)).toContain('admin');
    expect(await codeOf(clients.owner.runs.start.mutate({ agent: 'admin', input: {} }))).toBe('FORBIDDEN');
  });
});

describe('tokens', () => {
  const clientWith = (token: string) => createClient(server.url, { transport: 'sse', token }).client;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (sub: string, exp = now() + 3600) => ({
    sub,
    roles: ['user', 'admin'],
    iss: 'toolrun-dev',
    aud: 'toolrun',
    iat: now(),
    exp,
  });

  it('refuses expired, forged, unsigned and wrong-algorithm tokens with UNAUTHORIZED, over HTTP and WebSocket', async () => {
    const expired = handMadeJwt(claims('owner-ann', now() - 3600));
    const forged = handMadeJwt(claims('owner-ann'), { secret: 'not-the-server-secret-but-long-enough!!' });
    const wrongAlg = handMadeJwt(claims('owner-ann'), { alg: 'HS512' });
    const unsigned = handMadeJwt(claims('owner-ann'), { alg: 'none' });
    // The control: the same claims, rightly signed, are accepted.
    expect((await clientWith(handMadeJwt(claims('owner-ann'))).auth.me.query()).roles).toEqual(['user', 'admin']);
    for (const token of [expired, forged, wrongAlg, unsigned, 'garbage']) {
      expect(await codeOf(clientWith(token).auth.me.query())).toBe('UNAUTHORIZED');
      const ws = createClient(server.url, { transport: 'ws', token });
      expect(await codeOf(ws.client.auth.me.query())).toBe('UNAUTHORIZED');
      ws.close();
    }
    const expiredError = await clientWith(expired)
      .auth.me.query()
      .catch((e: unknown) => e);
    expect(String(expiredError)).toContain('expired');
  });

  it('accepts a token in the Authorization header and in connection params', async () => {
    const token = await login(server.url, 'header-henry');
    expect((await clientWith(token).auth.me.query()).userId).toBe('header-henry');
    const ws = createClient(server.url, { transport: 'ws', token });
    expect((await ws.client.auth.me.query()).userId).toBe('header-henry');
    ws.close();
  });
});

describe('external auth mode', () => {
  it('disables auth.login with a readable FORBIDDEN and accepts tokens of the configured issuer', async () => {
    const idpSecret = 'secret-shared-with-the-identity-provider';
    const external = await startTestServer({
      auth: { mode: 'external', key: { secret: idpSecret }, issuer: 'https://idp.example', audience: 'toolrun' },
    });
    try {
      const anonymous = createClient(external.url, { transport: 'sse' }).client;
      const refused = await anonymous.auth.login.mutate({ userId: 'eve-external' }).catch((e: unknown) => e);
      expect(await codeOf(Promise.reject(refused))).toBe('FORBIDDEN');
      expect(String(refused)).toContain('TOOLRUN_AUTH_MODE=external');
      const token = handMadeJwt(
        {
          sub: 'eve-external',
          role: 'user',
          iss: 'https://idp.example',
          aud: 'toolrun',
          exp: Math.floor(Date.now() / 1000) + 3600,
        },
        { secret: idpSecret },
      );
      const me = await createClient(external.url, { transport: 'sse', token }).client.auth.me.query();
      expect(me).toMatchObject({ userId: 'eve-external', roles: ['user'], authMode: 'external' });
      // A dev token of another server is not valid here.
      const devToken = await login(server.url, 'owner-ann');
      expect(
        await codeOf(createClient(external.url, { transport: 'sse', token: devToken }).client.auth.me.query()),
      ).toBe('UNAUTHORIZED');
    } finally {
      await external.stop();
    }
  });
});
