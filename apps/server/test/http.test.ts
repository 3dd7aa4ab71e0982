import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { collect, createClient, login, startTestServer, within } from './helpers.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;

/**
 * A strict reading of the Prometheus text format 0.0.4: every line is a `# HELP`/`# TYPE` comment or
 * a sample `name{label="value",…} number`, and every sample belongs to a declared metric family.
 */
function parsePrometheus(text: string): Map<string, { type: string; samples: { labels: string; value: number }[] }> {
  const families = new Map<string, { type: string; samples: { labels: string; value: number }[] }>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|NaN|\+Inf|-Inf))(?: -?[0-9]+)?$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type?.[1] !== undefined && type[2] !== undefined) {
      families.set(type[1], { type: type[2], samples: [] });
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const match = sample.exec(line);
    if (match?.[1] === undefined || match[3] === undefined)
      throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const name = match[1];
    const family =
      families.get(name) ?? families.get(name.replace(/_(bucket|sum|count|total|created)$/, '')) ?? undefined;
    if (family === undefined) throw new Error(`sample of an undeclared metric: ${name}`);
    family.samples.push({ labels: `${name}${match[2] ?? ''}`, value: Number(match[3]) });
  }
  return families;
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('GET /metrics', () => {
  it('is Prometheus text with process metrics and the dispatcher’s counters, gauges and histograms', async () => {
    const token = await login(server.url, 'metrics-mia');
    const { client } = createClient(server.url, { transport: 'sse', token });
    const { runId } = await client.runs.start.mutate({ agent: 'calculator', input: {} });
    await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 20_000, 'the run');
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(await res.text());
    expect(families.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(families.get('toolrun_live_scopes')?.type).toBe('gauge');
    expect(families.get('toolrun_active_runs')?.type).toBe('gauge');
    const runs = families.get('toolrun_runs_total');
    expect(runs?.type).toBe('counter');
    expect(runs?.samples.find((s) => s.labels.includes('status="completed"'))?.value).toBeGreaterThanOrEqual(1);
    const calls = families.get('toolrun_tool_executions_total');
    expect(calls?.samples.find((s) => s.labels.includes('tool="calculator"'))?.value).toBeGreaterThanOrEqual(1);
    const duration = families.get('toolrun_tool_duration_seconds');
    expect(duration?.type).toBe('histogram');
    expect(duration?.samples.some((s) => s.labels.startsWith('toolrun_tool_duration_seconds_bucket{'))).toBe(true);
    expect(families.get('toolrun_events_total')?.samples.length).toBe(5);
  });
});

describe('GET /healthz', () => {
  it('reports the database and live scopes', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: true, liveScopes: expect.any(Number) });
  });
});

describe('the console at /', () => {
  it('answers with a readable 503 page while the console is not built', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('pnpm start');
  });

  it('serves the built files, falls back to index.html for client routes, and never leaves its folder', async () => {
    const consoleDir = join(server.dir, 'dist');
    mkdirSync(join(consoleDir, 'assets'), { recursive: true });
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(consoleDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(server.dir, 'secret.txt'), 'do not serve');
    const built = await startTestServer({ consoleDir });
    try {
      const index = await fetch(`${built.url}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toContain('text/html');
      expect(await index.text()).toContain('<title>console</title>');
      const js = await fetch(`${built.url}/assets/app.js`);
      expect(js.headers.get('content-type')).toContain('text/javascript');
      expect(js.headers.get('cache-control')).toContain('immutable');
      expect(await (await fetch(`${built.url}/runs/some-run-id`)).text()).toContain('<title>console</title>');
      expect((await fetch(`${built.url}/assets/missing.js`)).status).toBe(404);
      for (const path of ['/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
        const res = await fetch(`${built.url}${path}`);
        expect(await res.text()).not.toContain('do not serve');
      }
    } finally {
      await built.stop();
    }
  });
});

describe('WebSocket upgrades', () => {
  it('are accepted at /trpc only', async () => {
    const wsUrl = server.url.replace(/^http/, 'ws');
    const outcome = (path: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${wsUrl}${path}`);
        ws.on('open', () => {
          ws.close();
          resolve('open');
        });
        ws.on('error', () => resolve('refused'));
      });
    expect(await within(outcome('/trpc'), 5_000, 'the /trpc upgrade')).toBe('open');
    expect(await within(outcome('/elsewhere'), 5_000, 'the refused upgrade')).toBe('refused');
  });
});
