import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers.ts';
import { createClient, eventually, login, startTestServer } from '../helpers.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let admin: Client;

beforeAll(async () => {
  server = await startTestServer({ canary: { intervalMs: 1_000, timeoutMs: 5_000 } });
  admin = createClient(server.url, { transport: 'sse', token: await login(server.url, 'root', 'admin') }).client;
});
afterAll(() => server.stop());

interface Health {
  status: string;
  reasons: { check: string }[];
  canary: { ok?: boolean; at?: string };
}

async function health(): Promise<{ http: number; body: Health }> {
  const res = await fetch(`${server.url}/healthz`);
  return { http: res.status, body: (await res.json()) as Health };
}

describe('the golden-path canary', () => {
  it('checks the five events through the HTTP API, turns /healthz failing when the path breaks and ok once it works again', async () => {
    const first = await eventually(async () => {
      const h = await health();
      return h.body.canary.ok === true ? h : undefined;
    });
    expect(first).toMatchObject({ http: 200, body: { status: 'ok', reasons: [] } });

    // An injected fault on the golden path: the calculator tool switched off by an admin.
    await admin.tools.setEnabled.mutate({ tool: 'calculator', enabled: false, reason: 'canary test' });
    const broken = await eventually(async () => {
      const h = await health();
      return h.body.status === 'failing' ? h : undefined;
    });
    expect(broken.http).toBe(503);
    expect(broken.body.reasons.map((r) => r.check)).toEqual(['canary']);
    expect(JSON.stringify(broken.body.reasons)).toContain('TOOL_DISABLED');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^toolrun_canary_up 0$/m);
    expect(metrics).toMatch(/^toolrun_canary_checks_total\{verdict="failed"\} [1-9]/m);

    await admin.tools.setEnabled.mutate({ tool: 'calculator', enabled: true, reason: 'canary test done' });
    const healed = await eventually(async () => {
      const h = await health();
      return h.body.status === 'ok' && h.body.canary.at !== broken.body.canary.at ? h : undefined;
    });
    expect(healed.http).toBe(200);
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^toolrun_canary_up 1$/m);
  });

  it('prunes its own runs: they never pile up in history', async () => {
    await eventually(async () => ((await health()).body.canary.ok === true ? true : undefined));
    const all = await admin.runs.list.query({ limit: 100, scope: 'all' });
    expect(all.items.filter((r) => r.userId === 'toolrun-canary').length).toBeLessThanOrEqual(1);
  });
});
