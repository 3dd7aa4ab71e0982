import type { RunEvent } from '@toolrun/api';
import { RUN_ID_META } from '@toolrun/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, createClient, eventually, handMadeJwt, login, startTestServer } from '../helpers.ts';
import { connectMcp, initializeBody, rawMcp, rpc } from './support.ts';

// /mcp attacked: no token, forged and foreign tokens, foreign Origin, oversized and malformed bodies,
// a thousand requests from one account, and two users at once. Real server, real SDK clients.

const MAX_SESSIONS = 4;
let server: Awaited<ReturnType<typeof startTestServer>>;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: 65_536, mcpServer: { maxSessionsPerUser: MAX_SESSIONS } });
  aliceToken = await login(server.url, 'alice');
  bobToken = await login(server.url, 'bob');
});

afterAll(async () => {
  await server?.stop();
});

function trpcAs(token: string) {
  return createClient(server.url, { transport: 'sse', token }).client;
}

describe('/mcp refuses', () => {
  it('a request without a token, or with a forged, expired or unsigned one: 401 with WWW-Authenticate, before any session', async () => {
    const forged = handMadeJwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600 }, { secret: 'x'.repeat(40) });
    const expired = handMadeJwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 600 });
    const unsigned = handMadeJwt({ sub: 'alice' }, { alg: 'none' });
    for (const token of [undefined, 'not-a-token', forged, expired, unsigned]) {
      for (const method of ['POST', 'GET', 'DELETE']) {
        const response = await rawMcp(server.url, {
          ...(token === undefined ? {} : { token }),
          method,
          ...(method === 'POST' ? { body: initializeBody() } : {}),
        });
        expect(response.status, `${method} with ${token ?? 'no token'}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(JSON.parse(response.text)).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
      }
    }
    expect(server.http.mcp.sessions()).toBe(0);
    await expect(connectMcp(server.url, undefined)).rejects.toThrow();
    await expect(connectMcp(server.url, forged)).rejects.toThrow();
  });

  it("another user's token on alice's session: 404 like an unknown session, never served; alice's session goes on", async () => {
    const alice = await connectMcp(server.url, aliceToken);
    try {
      const sessionId = alice.transport.sessionId ?? '';
      expect(sessionId).not.toBe('');
      for (const [method, body] of [
        ['POST', rpc('tools/list')],
        ['POST', rpc('tools/call', { name: 'calculator', arguments: { expression: '1+1' } })],
        ['GET', undefined],
        ['DELETE', undefined],
      ] as const) {
        const response = await rawMcp(server.url, {
          token: bobToken,
          sessionId,
          method,
          ...(body === undefined ? {} : { body }),
        });
        expect(response.status, method).toBe(404);
        expect(response.text).not.toContain('calculator');
      }
      expect((await trpcAs(bobToken).runs.list.query({ limit: 10 })).items).toEqual([]);
      const { tools } = await alice.client.listTools();
      expect(tools.length).toBeGreaterThan(0);
    } finally {
      await alice.close();
    }
  });

  it("a foreign Origin: 403 with an empty body from the server's gate, before anything else", async () => {
    const response = await rawMcp(server.url, {
      token: aliceToken,
      body: initializeBody(),
      headers: { Origin: 'https://evil.example' },
    });
    expect(response.status).toBe(403);
    expect(response.text).toBe('');
    expect(server.http.mcp.sessions('alice')).toBe(0);
  });

  it('oversized (413), malformed (400) and session-less bodies, unknown sessions (404) and other methods (405), each with a readable JSON-RPC error', async () => {
    const big = rpc('tools/call', { name: 'calculator', arguments: { expression: '1'.repeat(70_000) } });
    const cases: { opts: Parameters<typeof rawMcp>[1]; status: number; says: RegExp }[] = [
      { opts: { token: aliceToken, body: big }, status: 413, says: /over 65536 bytes/ },
      { opts: { token: aliceToken, body: '{"jsonrpc":"2.0",' }, status: 400, says: /not valid JSON/ },
      { opts: { token: aliceToken, body: '\u0000\u0001garbage' }, status: 400, says: /not valid JSON/ },
      { opts: { token: aliceToken, body: rpc('tools/list') }, status: 400, says: /initialize/ },
      { opts: { token: aliceToken, method: 'GET' }, status: 400, says: /initialize/ },
      {
        opts: { token: aliceToken, sessionId: 'no-such-session', body: rpc('tools/list') },
        status: 404,
        says: /session not found/,
      },
      { opts: { token: aliceToken, method: 'PUT', body: '{}' }, status: 405, says: /not allowed/ },
    ];
    for (const { opts, status, says } of cases) {
      const response = await rawMcp(server.url, opts);
      expect(response.status, says.source).toBe(status);
      expect(JSON.parse(response.text).error.message).toMatch(says);
    }
    // A body of one JSON value that is not a request, on a real session: refused by the SDK, the session lives.
    const alice = await connectMcp(server.url, aliceToken);
    try {
      const response = await rawMcp(server.url, {
        token: aliceToken,
        sessionId: alice.transport.sessionId ?? '',
        body: '[1,2,3]',
      });
      expect(response.status).toBe(400);
      expect((await alice.client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await alice.close();
    }
    expect(server.http.mcp.sessions('alice')).toBe(0);
  });
});

describe('/mcp under load', () => {
  it('a thousand requests from one account stay bounded: sessions capped per user, every call answered, no scope left', {
    timeout: 120_000,
  }, async () => {
    // Its own user, so that the rate limit it reaches does not touch the other tests' users.
    const daveToken = await login(server.url, 'dave');
    // 100 initializations: never more than MAX_SESSIONS open at once (the least recently used idle one goes).
    for (let i = 0; i < 100; i += 1) {
      const response = await rawMcp(server.url, { token: daveToken, body: initializeBody() });
      expect(response.status).toBe(200);
      expect(server.http.mcp.sessions('dave')).toBeLessThanOrEqual(MAX_SESSIONS);
    }
    const dave = await connectMcp(server.url, daveToken);
    try {
      // 600 listings, 50 at a time, then 300 calls, 25 at a time: each one answered, a result or
      // a rate-limit refusal, never a crash.
      for (let batch = 0; batch < 12; batch += 1) {
        const lists = await Promise.all(Array.from({ length: 50 }, () => dave.client.listTools()));
        expect(lists.every((l) => l.tools.length > 0)).toBe(true);
      }
      const outcomes = new Map<string, number>();
      for (let batch = 0; batch < 12; batch += 1) {
        const results = await Promise.all(
          Array.from({ length: 25 }, (_, i) =>
            dave.client
              .callTool({ name: 'calculator', arguments: { expression: `${batch}+${i}` } })
              .catch((error: unknown) => ({ threw: String(error) })),
          ),
        );
        for (const result of results) {
          const key =
            'threw' in result
              ? `threw ${result.threw}`
              : result.isError === true
                ? String((result.structuredContent as { error?: { code?: string } } | undefined)?.error?.code)
                : 'ok';
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
      }
      expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(300);
      expect([...outcomes.keys()].filter((k) => k !== 'ok' && k !== 'RATE_LIMITED')).toEqual([]);
      expect(outcomes.get('ok')).toBeGreaterThan(0);
      expect(server.http.mcp.sessions('dave')).toBeLessThanOrEqual(MAX_SESSIONS);
      await eventually(() => (server.services.factory.liveScopes() === 0 ? true : undefined));
      // Bob is still served.
      const bob = await connectMcp(server.url, bobToken);
      expect((await bob.client.callTool({ name: 'calculator', arguments: { expression: '2+2' } })).isError).not.toBe(
        true,
      );
      await bob.close();
    } finally {
      await dave.close();
    }
  });

  it("two users' sessions at once never cross: each result, run, progress and event stays with its caller", async () => {
    // Two users of their own: the rate limit of the test above never reaches them.
    const [erinToken, frankToken] = [await login(server.url, 'erin'), await login(server.url, 'frank')];
    const erin = await connectMcp(server.url, erinToken);
    const frank = await connectMcp(server.url, frankToken);
    const crossBefore = server.services.ledger.counts().crossUserDeliveries;
    try {
      const progress = { erin: [] as string[], frank: [] as string[] };
      const callsOf = (who: 'erin' | 'frank', client: typeof erin.client, base: number) =>
        Array.from({ length: 12 }, (_, i) =>
          i % 3 === 0
            ? client.callTool(
                { name: 'agent__calculator', arguments: { question: `What is ${base}+${i}?` } },
                undefined,
                { onprogress: (p) => progress[who].push(p.message ?? '') },
              )
            : client.callTool({ name: 'calculator', arguments: { expression: `${base}+${i}` } }),
        );
      const [erinResults, frankResults] = await Promise.all([
        Promise.all(callsOf('erin', erin.client, 1000)),
        Promise.all(callsOf('frank', frank.client, 5000)),
      ]);
      for (const [who, results, token, other, base] of [
        ['erin', erinResults, erinToken, frankToken, 1000],
        ['frank', frankResults, frankToken, erinToken, 5000],
      ] as const) {
        for (const [i, result] of results.entries()) {
          expect(result.isError, `${who} ${i}`).not.toBe(true);
          expect(JSON.stringify(result.content)).toContain(String(base + i));
          const runId = String(result._meta?.[RUN_ID_META]);
          const detail = await trpcAs(token).runs.get.query({ runId });
          expect(detail.run.userId).toBe(who);
          expect((detail.events as RunEvent[]).every((e) => e.userId === who)).toBe(true);
          expect(await codeOf(trpcAs(other).runs.get.query({ runId }))).toBe('NOT_FOUND');
        }
      }
      expect(progress.erin.length).toBeGreaterThan(0);
      expect(progress.frank.length).toBeGreaterThan(0);
      expect(progress.erin.some((m) => m.includes('500'))).toBe(false);
      expect(progress.frank.some((m) => m.includes('100'))).toBe(false);
      expect(server.services.ledger.counts().crossUserDeliveries).toBe(crossBefore);
    } finally {
      await erin.close();
      await frank.close();
    }
  });
});

describe('/mcp sessions', () => {
  it('a session idle past the limit is closed: its id answers 404, and the client can open a new one', async () => {
    const idle = await startTestServer({ mcpServer: { sessionIdleMs: 200 } });
    try {
      const token = await login(idle.url, 'carol');
      const carol = await connectMcp(idle.url, token);
      const sessionId = carol.transport.sessionId ?? '';
      expect(idle.http.mcp.sessions('carol')).toBe(1);
      await eventually(() => (idle.http.mcp.sessions('carol') === 0 ? true : undefined));
      const stale = await rawMcp(idle.url, { token, sessionId, body: rpc('tools/list') });
      expect(stale.status).toBe(404);
      await carol.client.close();
      const again = await connectMcp(idle.url, token);
      expect((await again.client.listTools()).tools.length).toBeGreaterThan(0);
      await again.close();
    } finally {
      await idle.stop();
    }
  });
});
