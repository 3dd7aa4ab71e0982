import { cpus, loadavg } from 'node:os';
import { startPostgres, type TestPostgres } from '@toolrun/db/test-support';
import { clusterFigures } from '../cluster/clusterFigures.ts';
import { type ClusterScenarioResult, runClusterScenario } from '../cluster/clusterScenario.ts';
import { type DeploymentConfig, deploymentsFor, serverProcesses } from '../cluster/deployments.ts';
import { clockTicks } from '../cluster/procCpu.ts';
import { type Deployment, startDeployment } from '../cluster/startDeployment.ts';
import type { BenchContext, Benchmark } from '../harness/benchmark.ts';
import { clusterTable } from '../report/clusterTable.ts';
import type { StreamPlan } from '../servers/protocol.ts';

/** The load: users, events per run at the max rate, the fixed offered rate and how long it is offered. */
export function clusterLoad(quick: boolean): { users: number; maxTotal: number; offered: number; seconds: number } {
  return quick
    ? { users: 200, maxTotal: 4_000, offered: 2_000, seconds: 2 }
    : { users: 1_000, maxTotal: 50_000, offered: 2_000, seconds: 5 };
}

/** How each run of a scenario emits: as fast as it can (one event per turn per run), or `offered` in total. */
export function clusterPlan(mode: 'max' | 'rate', load: ReturnType<typeof clusterLoad>): StreamPlan {
  if (mode === 'max') return { perRun: Math.max(1, Math.round(load.maxTotal / load.users)), burst: 1 };
  const ratePerRun = load.offered / load.users;
  return { perRun: Math.max(1, Math.round(ratePerRun * load.seconds)), ratePerRun, burst: 1 };
}

const loadNow = () => loadavg().map((l) => Math.round(l * 100) / 100);
const show = (v: number | null) => (v === null ? '–' : v.toFixed(2));

/** The scenarios of one deployment: the max rate, then the fixed offered rate. */
async function measure(
  ctx: BenchContext,
  deployment: Deployment,
  load: ReturnType<typeof clusterLoad>,
  ticksPerSecond: number,
): Promise<ClusterScenarioResult[]> {
  const out: ClusterScenarioResult[] = [];
  for (const mode of ['max', 'rate'] as const) {
    if (ctx.signal.aborted) break;
    const plan = clusterPlan(mode, load);
    const result = await runClusterScenario({
      ctx,
      deployment,
      users: load.users,
      mode,
      plan,
      offered: mode === 'rate' ? load.offered : null,
      deadlineMs: mode === 'max' ? 60_000 : load.seconds * 1_000 + 30_000,
      ticksPerSecond,
    });
    out.push(result);
    const c = result.cpuSeconds;
    ctx.log(
      `  ${deployment.config.name.padEnd(13)} ${mode === 'max' ? 'max    ' : `${result.offered}/s`} ` +
        `${Math.round(result.eventsPerSec ?? 0)} events/s, p50 ${show(result.p50Ms)} ms, p99 ${show(result.p99Ms)} ms, ` +
        `${result.received}/${result.expected} events${result.timedOut ? ' (deadline)' : ''}${result.firstError === undefined ? '' : ` (${result.firstError})`}` +
        `${result.committed === undefined ? '' : ` (committed: ${JSON.stringify(result.committed)})`}; ` +
        `CPU s: all ${c.all.toFixed(2)} api ${c.api.toFixed(2)} worker ${c.worker.toFixed(2)} pg ${c.postgres.toFixed(2)} ` +
        `redis ${c.redis.toFixed(2)} clients ${c.clients.toFixed(2)} other ${c.other.toFixed(2)} ` +
        `in ${(result.windowMs / 1000).toFixed(1)} s (machine ${result.machineBusyCores.toFixed(2)} cores busy)`,
    );
  }
  return out;
}

/**
 * Issue 16: the server in cluster mode (API and worker processes on one PostgreSQL and one Redis, all
 * on this machine) against single mode on the same PostgreSQL, in the same run: for 1,000 users each
 * following its own run (tRPC WebSocket, lean reader, one client process per API process), max
 * events/s delivered, p50/p99 emit→receipt at 2,000 events/s offered, and every process's CPU per
 * delivered event (server roles, PostgreSQL, Redis, clients) from `/proc`: where the cores go.
 * Deployments: single mode on PostgreSQL (the baseline) and on SQLite, 1 API + 1 worker, 2 API +
 * 2 workers and one more process. Every process is the bench's own, stopped when it ends.
 */
export const clusterBenchmark: Benchmark = {
  name: 'cluster',
  title: 'cluster mode (API + worker processes, PostgreSQL, Redis) vs single mode, 1,000 users',
  async run(ctx) {
    const load = clusterLoad(ctx.quick);
    const configs = deploymentsFor(ctx.quick);
    const ticksPerSecond = clockTicks();
    const cores = cpus().length;
    const loadBefore = loadNow();
    ctx.log(`  machine: ${cores} cores (os.cpus().length), load average ${loadBefore.join(' / ')}`);
    const results: ClusterScenarioResult[] = [];
    const failures: Record<string, string> = {};
    const processes: Record<string, number> = {};
    let postgres: TestPostgres | undefined;
    try {
      postgres = await startPostgres();
      for (const config of configs) {
        if (ctx.signal.aborted) break;
        processes[config.name] = serverProcesses(config);
        let deployment: Deployment | undefined;
        try {
          deployment = await startDeployment({ config, postgres, benchRoot: ctx.benchRoot });
          results.push(...(await measure(ctx, deployment, load, ticksPerSecond)));
        } catch (error) {
          failures[config.name] = error instanceof Error ? error.message : String(error);
          ctx.log(`  ${config.name} failed: ${failures[config.name]}`);
        } finally {
          await deployment?.close();
        }
      }
    } finally {
      postgres?.stop();
    }
    const loadAfter = loadNow();
    ctx.log(`  machine: ${cores} cores, load average ${loadAfter.join(' / ')} after`);
    ctx.log(`\n${clusterTable(results)}\n`);
    return {
      figures: clusterFigures({
        results,
        configs: configs as DeploymentConfig[],
        offered: load.offered,
        users: load.users,
        cores,
        loadAverage: { before: loadBefore, after: loadAfter },
      }),
      details: {
        machine: { cores, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, clockTicks: ticksPerSecond },
        load,
        serverProcesses: processes,
        scenarios: results,
        ...(Object.keys(failures).length === 0 ? {} : { failures }),
      },
    };
  },
};
