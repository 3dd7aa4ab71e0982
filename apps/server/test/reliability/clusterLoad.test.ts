import { setMaxListeners } from 'node:events';
import type { RunEvent } from '@toolrun/api';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../cluster/support.ts';
import { eventually, within } from '../helpers.ts';
import type { ChildServer } from './support/childServer.ts';
import { type CuttingProxy, startCuttingProxy } from './support/cuttingProxy.ts';
import { reportFigures } from './support/figures.ts';
import { reliabilityParams } from './support/params.ts';
import { readPostgresHistory } from './support/postgresHistory.ts';
import { createRandom } from './support/random.ts';
import { runLoad } from './support/runLoad.ts';
import { problemsOf, verifyLoad } from './support/verifyLoad.ts';
import type { UserLog } from './support/virtualUser.ts';

const params = reliabilityParams();

let cluster: TestCluster | undefined;
const proxies: CuttingProxy[] = [];
const stop = new AbortController();
// Every virtual user and every subscription listens to it.
setMaxListeners(0, stop.signal);
afterAll(async () => {
  stop.abort();
  await Promise.all(proxies.map((p) => p.close()));
  await cluster?.stop();
});

/** One gauge or counter of a process's `/metrics` (0 when absent, NaN when the process does not answer). */
async function metric(server: ChildServer, name: string): Promise<number> {
  try {
    const text = await (await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  } catch {
    return Number.NaN;
  }
}

/**
 * The runs closed because a worker stopped (`interrupted`, or `failed` with `WORKER_LOST`): by how they
 * ended, how long after the kill each ended (ms, sorted; negative: before the kill, not the kill's doing).
 */
function killedWorkerEndings(commitOrder: readonly RunEvent[], killedAt: number | undefined): Record<string, number[]> {
  const endings: Record<string, number[]> = {};
  if (killedAt === undefined) return endings;
  for (const event of commitOrder) {
    if (event.type !== 'agent_completed') continue;
    const code = event.error?.code;
    if (event.status !== 'interrupted' && code !== 'WORKER_LOST') continue;
    const afterKillMs = Date.parse(event.at) - killedAt;
    const how = `${event.status}: ${code ?? 'none'}${afterKillMs < 0 ? ' (before the kill)' : ''}`;
    endings[how] = [...(endings[how] ?? []), afterKillMs].sort((a, b) => a - b);
  }
  return endings;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the faults did, for the report. */
interface FaultLog {
  redisRestartedAtRuns?: number;
  redisDownMs?: number;
  workerKilledAtRuns?: number;
  killedWorkerActiveRuns?: number;
  killedAt?: number;
  replacementUpMs?: number;
}

/**
 * The cluster faults, each once, when the load has stored a share of its runs (progress, not time):
 * redis-server killed (everything in it lost) and started again, empty, on the same port; then the
 * busiest worker SIGKILLed mid-run and a replacement spawned.
 */
async function injectFaults(c: TestCluster, expectedRuns: number, signal: AbortSignal): Promise<FaultLog> {
  const log: FaultLog = {};
  const db = new pg.Client({ connectionString: c.databaseUrl });
  await db.connect();
  const runsStored = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM runs')).rows[0]?.n);
  const reach = async (share: number): Promise<number> => {
    for (;;) {
      const n = await runsStored();
      if (n >= expectedRuns * share || signal.aborted) return n;
      await sleep(100);
    }
  };
  try {
    log.redisRestartedAtRuns = await reach(0.15);
    if (signal.aborted) return log;
    const down = Date.now();
    await c.redis.kill();
    await sleep(1_000);
    await c.redis.restart();
    log.redisDownMs = Date.now() - down;

    log.workerKilledAtRuns = await reach(0.45);
    if (signal.aborted) return log;
    // The worker with the most runs under way (a worker with none would prove little).
    let victim: ChildServer | undefined;
    let most = 0;
    for (let tries = 0; tries < 100 && most === 0 && !signal.aborted; tries += 1) {
      for (const worker of c.workers) {
        const active = await metric(worker, 'toolrun_active_runs');
        if (active > most) {
          most = active;
          victim = worker;
        }
      }
      if (most === 0) await sleep(100);
    }
    if (victim === undefined) return log;
    log.killedWorkerActiveRuns = most;
    log.killedAt = Date.now();
    await victim.stop('SIGKILL');
    const spawning = Date.now();
    c.workers.splice(c.workers.indexOf(victim), 1, await c.spawn('worker'));
    log.replacementUpMs = Date.now() - spawning;
    return log;
  } finally {
    await db.end();
  }
}

describe('load with faults in cluster mode', () => {
  it(`${params.clusterUsers} users on 2 API processes and 2 workers (real PostgreSQL and redis-server), with random agents, cancels on either API, drops and resumes on the other, cut connections, a Redis restart and a worker SIGKILLed: each owner and each follower receives exactly the stored events, nothing crosses users, every run ends once`, {
    timeout: params.clusterTimeoutMs + 180_000,
  }, async () => {
    const bootAt = Date.now();
    const c = await startTestCluster({
      apis: 2,
      workers: 2,
      // A short lease, so the killed worker's runs are closed interrupted within seconds.
      env: { TOOLRUN_RUN_LEASE_MS: String(params.clusterLeaseMs) },
    });
    cluster = c;
    const clusterUpMs = Date.now() - bootAt;
    // Cuts on the wire: the servers are other processes, which the in-process stream cutter cannot reach,
    // so the clients talk to each API process through a TCP proxy (node:net) that destroys a random live
    // SSE or WebSocket connection now and then, both halves at once (see support/cuttingProxy.ts).
    for (const [i, api] of c.apis.entries()) {
      proxies.push(await startCuttingProxy(Number(new URL(api.url).port), createRandom(params.seed + 1 + i)));
    }
    // One cut every cutEveryMs across the cluster, as in the single-process load.
    for (const proxy of proxies) proxy.start(params.cutEveryMs * proxies.length);

    const expectedRuns = params.clusterUsers * params.clusterRunsPerUser;
    const faultsDone = new AbortController();
    const startedAt = Date.now();
    let peakActive = 0;
    const sampler = setInterval(async () => {
      const counts = await Promise.all(c.workers.map((w) => metric(w, 'toolrun_active_runs')));
      peakActive = Math.max(
        peakActive,
        counts.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0),
      );
    }, 500);
    const faults = injectFaults(c, expectedRuns, faultsDone.signal);
    let logs: UserLog[] = await within(
      runLoad({
        baseUrl: proxies[0]?.url ?? '',
        urls: proxies.map((p) => p.url),
        userPrefix: 'cluster',
        users: params.clusterUsers,
        runsPerUser: params.clusterRunsPerUser,
        concurrentUsers: params.clusterConcurrentUsers,
        cancelRate: params.cancelRate,
        disconnectRate: params.disconnectRate,
        seed: params.seed,
        deadline: Date.now() + params.clusterTimeoutMs,
        signal: stop.signal,
        adminEvery: 25,
        feedEvery: 10,
        adminFeed: true,
      }),
      params.clusterTimeoutMs + 30_000,
      'the load',
    );
    faultsDone.abort();
    const faultLog = await within(faults, 60_000, 'the faults');
    clearInterval(sampler);
    for (const proxy of proxies) proxy.stop();
    const durationMs = Date.now() - startedAt;
    const settling = Date.now();

    // Runs nobody waits for (a start whose answer a cut lost, then retried) end on their own.
    await eventually(
      async () => ((await readPostgresHistory(c.databaseUrl)).running.length === 0 ? true : undefined),
      60_000,
    );
    const history = await readPostgresHistory(c.databaseUrl);
    const figures = verifyLoad(logs, history.stored, history.commitOrder);
    logs = [];
    // Every subscription and scope is gone on every process once the clients are; no run is left under way.
    let left: unknown;
    const after = await eventually(async () => {
      const apis = await Promise.all(
        c.apis.map(
          async (a) => (await metric(a, 'toolrun_event_subscribers')) + (await metric(a, 'toolrun_live_scopes')),
        ),
      );
      const workers = await Promise.all(c.workers.map((w) => metric(w, 'toolrun_active_runs')));
      left = { apis, workers };
      return apis.every((n) => n === 0) && workers.every((n) => n === 0) ? { apis, workers } : undefined;
    }, 30_000).catch((error: unknown) => {
      // Which process kept what (subscribers + scopes per API process, active runs per worker), for the report.
      throw new Error(`${error instanceof Error ? error.message : String(error)}: still ${JSON.stringify(left)}`);
    });
    const settleMs = Date.now() - settling;
    const processes = [...c.apis, ...c.workers];
    const contractViolations = (
      await Promise.all(processes.map((p) => metric(p, 'toolrun_contract_violations_total')))
    ).reduce((a, b) => a + b, 0);
    const isolationViolations = (
      await Promise.all(processes.map((p) => metric(p, 'toolrun_isolation_violations_total')))
    ).reduce((a, b) => a + b, 0);

    // What a process logged as an internal failure (a procedure's 500, with its cause), for the report.
    const failures = c.apis.flatMap((a) =>
      a
        .output()
        .split('\n')
        .filter((line) => line.includes('"procedure failed"'))
        .slice(0, 5)
        .map((line) => line.slice(0, 2_000)),
    );
    reportFigures(params.soak ? 'cluster-load-soak' : 'cluster-load', {
      seed: params.seed,
      durationMs,
      clusterUpMs,
      settleMs,
      processes: { apis: c.apis.length, workers: c.workers.length },
      ...figures,
      storedRuns: history.statuses,
      storedEventsAll: history.commitOrder.length,
      serverCuts: proxies.reduce((n, p) => n + p.cuts, 0),
      proxiedConnections: proxies.reduce((n, p) => n + p.connections, 0),
      faults: faultLog,
      killedWorkerEndings: killedWorkerEndings(history.commitOrder, faultLog.killedAt),
      peakActiveRuns: peakActive,
      after,
      contractViolations,
      isolationViolations,
      failures,
    });

    expect(problemsOf(figures)).toEqual([]);
    expect(figures.runs).toBe(expectedRuns);
    expect(figures.vanishedRuns).toBe(0);
    expect(history.running).toEqual([]);
    expect(contractViolations).toBe(0);
    expect(isolationViolations).toBe(0);
    // Both faults happened mid-load, the worker with runs under way.
    expect(faultLog.redisDownMs).toBeGreaterThan(0);
    expect(faultLog.killedWorkerActiveRuns).toBeGreaterThan(0);
  });
});
