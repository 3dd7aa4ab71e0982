import { setMaxListeners } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, eventually, login, startTestServer, within } from '../helpers.ts';
import { reportFigures } from './support/figures.ts';
import { heapAfterGc, mb } from './support/memory.ts';
import { reliabilityParams } from './support/params.ts';
import { createRandom } from './support/random.ts';
import { runLoad } from './support/runLoad.ts';
import { storedEvents } from './support/storedEvents.ts';
import { createStreamCutter } from './support/streamCutter.ts';
import { problemsOf, verifyLoad } from './support/verifyLoad.ts';
import type { UserLog } from './support/virtualUser.ts';

const params = reliabilityParams();
// Leak guard only, never a precise figure: the heap must come back within this much of its baseline.
const HEAP_GROWTH_BOUND = 96 * 1_048_576;

let server: Awaited<ReturnType<typeof startTestServer>> | undefined;
// Warnings the process emits under load (a listener leak shows up as MaxListenersExceededWarning).
const warnings: string[] = [];
const onWarning = (warning: Error) => {
  warnings.push(`${warning.name}: ${warning.message}\n${warning.stack ?? ''}`);
};
process.on('warning', onWarning);
const stop = new AbortController();
// Every virtual user and every subscription listens to it.
setMaxListeners(0, stop.signal);
afterAll(async () => {
  process.off('warning', onWarning);
  stop.abort();
  await server?.stop();
});

describe('load with faults', () => {
  it(`${params.users} users over SSE and WebSocket with random agents, cancels, drops and cut connections: each owner receives exactly the stored events of its runs and nobody else's; scopes and memory come back`, {
    timeout: params.loadTimeoutMs + 60_000,
  }, async () => {
    const s = await startTestServer({ limits: { maxConcurrentRunsPerUser: 4 } });
    server = s;
    const health = async () =>
      (await (await fetch(`${s.url}/healthz`)).json()) as {
        liveScopes: number;
        activeRuns: number;
        subscribers: number;
      };

    // Warm up (module caches, prepared statements), then the baseline.
    const warm = createClient(s.url, { transport: 'sse', token: await login(s.url, 'warmup-wendy') }).client;
    await warm.runs.start.mutate({ agent: 'calculator', input: {} });
    await eventually(async () => ((await health()).activeRuns === 0 ? true : undefined));
    const baseline = await heapAfterGc();
    const rssBefore = process.memoryUsage().rss;

    const cutter = createStreamCutter(s.http.server, createRandom(params.seed + 1));
    cutter.start(params.cutEveryMs);
    const startedAt = Date.now();
    let peakActive = 0;
    const sampler = setInterval(() => {
      peakActive = Math.max(peakActive, s.services.factory.activeRuns().length ?? 0);
    }, 100);
    let logs: UserLog[] = await within(
      runLoad({
        baseUrl: s.url,
        userPrefix: 'load',
        users: params.users,
        runsPerUser: params.runsPerUser,
        concurrentUsers: params.concurrentUsers,
        cancelRate: params.cancelRate,
        disconnectRate: params.disconnectRate,
        seed: params.seed,
        deadline: Date.now() + params.loadTimeoutMs,
        signal: stop.signal,
        adminEvery: 25,
        feedEvery: 10,
      }),
      params.loadTimeoutMs + 30_000,
      'the load',
    );
    clearInterval(sampler);
    cutter.stop();
    const durationMs = Date.now() - startedAt;

    const db = s.services.db;
    const figures = verifyLoad(logs, await storedEvents(db));
    const ledger = s.services.ledger.counts();
    // Every run ends, every scope is disposed, every subscription is gone once the clients are.
    const after = await eventually(async () => {
      const h = await health();
      const subs = s.services.subscriptions();
      return h.activeRuns === 0 && h.liveScopes === 0 && h.subscribers === 0 && subs?.runs === 0 && subs.feeds === 0
        ? h
        : undefined;
    }, 30_000);
    const snapshot = await warm.metrics.snapshot.query();
    const stored = await db.listRuns({ limit: 100, status: 'running' });
    logs = [];
    const heapAfter = await heapAfterGc();

    reportFigures(params.soak ? 'load-soak' : 'load', {
      seed: params.seed,
      durationMs,
      ...figures,
      serverCuts: cutter.cuts,
      peakActiveRuns: peakActive,
      peakScopes: snapshot.peakScopes,
      ledger,
      liveScopesAfter: after.liveScopes,
      contractViolations: snapshot.contractViolations,
      isolationViolations: snapshot.isolationViolations,
      heapBaselineMb: mb(baseline),
      heapAfterMb: mb(heapAfter),
      rssBeforeMb: mb(rssBefore),
      rssAfterMb: mb(process.memoryUsage().rss),
      warnings: warnings.map((w) => w.split('\n').slice(0, 6).join(' | ')),
    });

    expect(problemsOf(figures)).toEqual([]);
    expect(figures.runs).toBe(params.users * params.runsPerUser);
    expect(figures.vanishedRuns).toBe(0);
    expect(ledger.crossUserDeliveries).toBe(0);
    expect(snapshot.isolationViolations).toBe(0);
    expect(snapshot.contractViolations).toBe(0);
    expect(stored.items).toEqual([]);
    expect(after.liveScopes).toBe(0);
    expect(heapAfter - baseline).toBeLessThan(HEAP_GROWTH_BOUND);
    // One listener per open subscription on a shared signal trips Node's leak detector: a server under load must not.
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });
});
