import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_CSP, CONSOLE_CSP } from '../../src/security/securityHeaders.ts';
import { login, startTestServer, tempDir } from '../helpers.ts';
import { rawRequest } from './support/foreignRequests.ts';

const consoleDir = tempDir();
let server: Awaited<ReturnType<typeof startTestServer>>;
let token = '';

beforeAll(async () => {
  mkdirSync(join(consoleDir.dir, 'assets'));
  writeFileSync(
    join(consoleDir.dir, 'index.html'),
    '<!doctype html><script type="module" src="/assets/app.js"></script>',
  );
  writeFileSync(join(consoleDir.dir, 'assets', 'app.js'), 'console.log(1)');
  server = await startTestServer({ consoleDir: consoleDir.dir });
  token = await login(server.url, 'header-reader');
});
afterAll(async () => {
  await server.stop();
  consoleDir.remove();
});

const COMMON = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

describe('security headers', () => {
  it("the console (/, client-side routes, assets) gets a CSP that allows only its own scripts, and can't be framed", async () => {
    for (const path of ['/', '/runs/anything', '/assets/app.js']) {
      const res = await fetch(`${server.url}${path}`);
      expect([path, res.status]).toEqual([path, 200]);
      expect(Object.fromEntries(res.headers)).toMatchObject({ ...COMMON, 'content-security-policy': CONSOLE_CSP });
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
  });

  it('the API (/trpc over HTTP and SSE, /healthz, /metrics) gets the strict policy: loads nothing, framed by nobody', async () => {
    const answers = [
      await fetch(`${server.url}/trpc/auth.me`, { headers: { authorization: `Bearer ${token}` } }),
      await fetch(`${server.url}/trpc/auth.me`),
      await fetch(`${server.url}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"userId":"bob"}',
      }),
      await fetch(`${server.url}/healthz`),
      await fetch(`${server.url}/metrics`),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 200, 200, 200]);
    for (const res of answers) {
      expect(Object.fromEntries(res.headers)).toMatchObject({ ...COMMON, 'content-security-policy': API_CSP });
    }
    const sse = await rawRequest({
      url: `${server.url}/trpc/runs.feed?${new URLSearchParams({ input: '{}', connectionParams: JSON.stringify({ token }) })}`,
      headers: { accept: 'text/event-stream' },
      readMs: 300,
    });
    expect(sse.headers['content-type']).toBe('text/event-stream');
    expect(sse.headers).toMatchObject({ ...COMMON, 'content-security-policy': API_CSP });
  });

  it('refusals by the Host/Origin guard carry them too', async () => {
    const res = await rawRequest({ url: `${server.url}/`, headers: { host: 'evil.example.com' } });
    expect(res.status).toBe(421);
    expect(res.headers).toMatchObject({ ...COMMON, 'content-security-policy': API_CSP });
  });

  it('the "console not built" page keeps its one inline style under a CSP that allows exactly that style', async () => {
    const bare = await startTestServer();
    try {
      const res = await fetch(`${bare.url}/`);
      expect(res.status).toBe(503);
      const style = /<style>([^<]*)<\/style>/.exec(await res.text())?.[1] ?? '';
      const hash = createHash('sha256').update(style).digest('base64');
      expect(res.headers.get('content-security-policy')).toBe(
        `default-src 'none'; style-src 'sha256-${hash}'; frame-ancestors 'none'`,
      );
    } finally {
      await bare.stop();
    }
  });
});
