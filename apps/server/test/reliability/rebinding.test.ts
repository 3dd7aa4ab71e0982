import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startTestServer } from '../helpers.ts';
import { reportFigures } from './support/figures.ts';
import { rawRequest, tryUpgrade } from './support/foreignRequests.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let port = 0;
let token = '';
let runId = '';
const outcomes: Record<string, number | string> = {};

const LOGIN_BODY = JSON.stringify({ userId: 'victim-admin', role: 'admin' });
const FOREIGN_HOST = () => `evil.example.com:${port}`;
const FOREIGN_ORIGIN = 'http://evil.example.com';

beforeAll(async () => {
  server = await startTestServer({
    security: { allowedHosts: ['toolrun.example.com'], allowedOrigins: ['https://console.example.com'] },
  });
  port = server.port;
  token = await login(server.url, 'rebinding-victim');
  const res = await fetch(`${server.url}/trpc/runs.start`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ agent: 'calculator', input: { question: '6*7' } }),
  });
  runId = ((await res.json()) as { result: { data: { runId: string } } }).result.data.runId;
});
afterAll(async () => {
  reportFigures('rebinding', outcomes);
  await server.stop();
});

/** An SSE subscription to the victim's own feed, with a valid token: only the Host or Origin is wrong. */
const feedUrl = () =>
  `${server.url}/trpc/runs.events?${new URLSearchParams({
    input: JSON.stringify({ runId }),
    connectionParams: JSON.stringify({ token }),
  })}`;

describe('DNS rebinding: requests under a foreign Host name', () => {
  it('HTTP: auth.login (admin) is 421 with an empty body, no token', async () => {
    const res = await rawRequest({
      url: `${server.url}/trpc/auth.login`,
      method: 'POST',
      headers: { host: FOREIGN_HOST(), origin: `http://${FOREIGN_HOST()}`, 'content-type': 'application/json' },
      body: LOGIN_BODY,
    });
    outcomes.httpForeignHost = res.status;
    expect(res.status).toBe(421);
    expect(res.body).toBe('');
  });

  it('SSE: a subscription with a valid token is 421 with an empty body, no event', async () => {
    const res = await rawRequest({
      url: feedUrl(),
      headers: { host: FOREIGN_HOST(), accept: 'text/event-stream' },
    });
    outcomes.sseForeignHost = res.status;
    expect(res.status).toBe(421);
    expect(res.body).toBe('');
  });

  it('WebSocket: the upgrade is refused with 421 before any message', async () => {
    const outcome = await tryUpgrade({
      url: `${server.url.replace(/^http/, 'ws')}/trpc`,
      headers: { host: FOREIGN_HOST(), origin: `http://${FOREIGN_HOST()}` },
      messages: [
        JSON.stringify({ id: 1, method: 'mutation', params: { path: 'auth.login', input: JSON.parse(LOGIN_BODY) } }),
      ],
    });
    outcomes.wsForeignHost = outcome.status;
    expect(outcome).toEqual({ status: 421, messages: [] });
  });

  it('every other path too: the console, /healthz, /metrics and paths that do not exist yet (/mcp, /agui)', async () => {
    for (const path of ['/', '/healthz', '/metrics', '/mcp', '/agui/echo', '/trpc']) {
      const res = await rawRequest({ url: `${server.url}${path}`, headers: { host: FOREIGN_HOST() } });
      expect([path, res.status, res.body]).toEqual([path, 421, '']);
    }
  });

  it('odd Host headers that try to smuggle a loopback name are refused too', async () => {
    for (const host of [
      'localhost.evil.example.com',
      '127.0.0.1.nip.io',
      `evil.example.com@127.0.0.1:${port}`,
      '127.0.0.1 evil',
    ]) {
      const res = await rawRequest({ url: `${server.url}/healthz`, headers: { host } });
      expect([host, res.status]).toEqual([host, 421]);
    }
  });
});

describe('cross-site requests: the right Host, a foreign Origin', () => {
  it('HTTP: auth.login is 403 with an empty body', async () => {
    const res = await rawRequest({
      url: `${server.url}/trpc/auth.login`,
      method: 'POST',
      headers: { host: `127.0.0.1:${port}`, origin: FOREIGN_ORIGIN, 'content-type': 'text/plain' },
      body: LOGIN_BODY,
    });
    outcomes.httpForeignOrigin = res.status;
    expect(res.status).toBe(403);
    expect(res.body).toBe('');
  });

  it('SSE: 403, no event', async () => {
    const res = await rawRequest({
      url: feedUrl(),
      headers: { host: `127.0.0.1:${port}`, origin: FOREIGN_ORIGIN, accept: 'text/event-stream' },
    });
    outcomes.sseForeignOrigin = res.status;
    expect(res.status).toBe(403);
    expect(res.body).toBe('');
  });

  it('WebSocket (no CORS protects it): the upgrade is 403, so a page cannot sign in over it', async () => {
    for (const origin of [FOREIGN_ORIGIN, 'null', `http://localhost:${port + 1}`, `https://127.0.0.1:${port}.evil`]) {
      const outcome = await tryUpgrade({
        url: `${server.url.replace(/^http/, 'ws')}/trpc`,
        headers: { origin },
        messages: [
          JSON.stringify({ id: 1, method: 'mutation', params: { path: 'auth.login', input: JSON.parse(LOGIN_BODY) } }),
        ],
      });
      expect([origin, outcome]).toEqual([origin, { status: 403, messages: [] }]);
    }
    outcomes.wsForeignOrigin = 403;
  });
});

describe('what must keep working', () => {
  it('same-origin browser requests, on any loopback name and port (a proxy or port forward in front)', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost:8080', `[::1]:${port}`, 'localhost.']) {
      const res = await rawRequest({
        url: `${server.url}/trpc/auth.login`,
        method: 'POST',
        headers: { host, origin: `http://${host}`, 'content-type': 'application/json' },
        body: LOGIN_BODY,
      });
      expect([host, res.status, res.body]).toEqual([host, 200, expect.stringContaining('"token"')]);
    }
  });

  it('a WebSocket and an SSE stream from the page’s own origin get their data', async () => {
    const sse = await rawRequest({
      url: feedUrl(),
      headers: { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, accept: 'text/event-stream' },
      readMs: 2_000,
    });
    expect(sse.status).toBe(200);
    expect(sse.body).toContain('agent_started');
    const ws = await tryUpgrade({
      url: `${server.url.replace(/^http/, 'ws')}/trpc`,
      headers: { origin: `http://127.0.0.1:${port}` },
      messages: [
        JSON.stringify({ id: 1, method: 'mutation', params: { path: 'auth.login', input: { userId: 'bob' } } }),
      ],
      readMs: 1_000,
    });
    expect(ws.status).toBe('open');
    expect(ws.messages.join('')).toContain('"token"');
  });

  it('TOOLRUN_ALLOWED_HOSTS and TOOLRUN_ALLOWED_ORIGINS admit a public deployment’s name and console', async () => {
    const res = await rawRequest({
      url: `${server.url}/trpc/auth.me`,
      headers: { host: 'toolrun.example.com', origin: 'https://console.example.com', authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    // Behind a TLS proxy: the browser's https origin, the proxy's Host without a port.
    const proxied = await rawRequest({
      url: `${server.url}/healthz`,
      headers: { host: 'toolrun.example.com', origin: 'https://toolrun.example.com' },
    });
    expect(proxied.status).toBe(200);
  });

  it('counts every refusal in /metrics by kind', async () => {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const count = (kind: string) =>
      Number(new RegExp(`toolrun_client_errors_total\\{kind="${kind}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    outcomes.refusedHosts = count('bad_host');
    outcomes.refusedOrigins = count('bad_origin');
    expect(count('bad_host')).toBeGreaterThanOrEqual(13);
    expect(count('bad_origin')).toBeGreaterThanOrEqual(6);
  });
});
