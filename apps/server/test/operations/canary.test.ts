import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers.ts';
import { collect, createClient, eventually, login, startTestServer } from '../helpers.ts';

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

  it("keeps the canary's runs out of the admin's all-users run list and feed (live and replayed), while /healthz and /metrics keep its figures", async () => {
    const canary = createClient(server.url, {
      transport: 'sse',
      token: await login(server.url, 'toolrun-canary'),
    }).client;
    const alice = createClient(server.url, { transport: 'sse', token: await login(server.url, 'alice') }).client;
    const feed = collect((callbacks) => admin.runs.feed.subscribe({ scope: 'all' }, callbacks));
    try {
      // A long run of the canary's identity: stored and live while the admin looks (the canary's own
      // runs are pruned as soon as they end, so they would only show for a few ms).
      const { runId: canaryRun } = await canary.runs.start.mutate({
        agent: 'slow',
        input: { steps: 40, delayMs: 100 },
      });
      await eventually(async () =>
        (await canary.runs.get.query({ runId: canaryRun })).events.length >= 3 ? true : undefined,
      );
      const { runId: aliceRun } = await alice.runs.start.mutate({
        agent: 'calculator',
        input: { question: 'What is 2+2?' },
      });
      await eventually(() =>
        feed.events().some((e) => e.runId === aliceRun && e.type === 'agent_completed') ? true : undefined,
      );
      // Meanwhile the canary's slow run went on emitting (and the canary itself checked, every second).
      await eventually(async () =>
        (await canary.runs.get.query({ runId: canaryRun })).events.length >= 6 ? true : undefined,
      );
      const seen = feed.events();
      expect(seen.filter((e) => e.userId === 'toolrun-canary')).toEqual([]);
      expect(seen.some((e) => e.userId === 'alice')).toBe(true);

      // Replayed from the database after an early event: the same rule.
      const first = seen[0]?.id;
      expect(first).toBeDefined();
      const replay = collect((callbacks) =>
        admin.runs.feed.subscribe({ scope: 'all', lastEventId: first ?? '' }, callbacks),
      );
      try {
        const aliceEvents = seen.filter((e) => e.runId === aliceRun).length;
        await eventually(() =>
          replay.events().filter((e) => e.runId === aliceRun).length >= aliceEvents - 1 ? true : undefined,
        );
        expect(replay.events().filter((e) => e.userId === 'toolrun-canary')).toEqual([]);
      } finally {
        replay.unsubscribe();
      }

      const all = await admin.runs.list.query({ limit: 100, scope: 'all' });
      expect(all.items.map((r) => r.id)).toContain(aliceRun);
      expect(all.items.filter((r) => r.userId === 'toolrun-canary')).toEqual([]);
      // Asked for by name, the identity's runs are still there for an admin.
      const named = await admin.runs.list.query({ limit: 100, userId: 'toolrun-canary' });
      expect(named.items.map((r) => r.id)).toContain(canaryRun);
      await canary.runs.cancel.mutate({ runId: canaryRun });

      // The canary's figures stay where they belong.
      const h = await eventually(async () => ((await health()).body.canary.ok === true ? await health() : undefined));
      expect(h.body.canary.at).toBeDefined();
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(
        /^toolrun_canary_checks_total\{verdict="ok"\} [1-9]/m,
      );
    } finally {
      feed.unsubscribe();
    }
  });
});
