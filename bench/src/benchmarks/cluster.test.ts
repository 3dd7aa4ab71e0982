import { describe, expect, it } from 'vitest';
import { clusterFigureId, clusterFigures, cpuUsPerEvent, partsOf } from '../cluster/clusterFigures.ts';
import type { ClusterScenarioResult, CpuPart } from '../cluster/clusterScenario.ts';
import { cluster, deploymentsFor, serverProcesses, single } from '../cluster/deployments.ts';
import { hostEnv, hostEnvVars } from '../cluster/hostEnv.ts';
import { findProcess, groupSecondsBetween, parseMachineStat, parseProcStat, readGroup } from '../cluster/procCpu.ts';
import { clusterTable } from '../report/clusterTable.ts';
import { clusterLoad, clusterPlan } from './cluster.ts';

/** A stat line as Linux writes it: pid (comm) state ppid … utime(14) stime cutime cstime … */
function statLine(pid: number, comm: string, ppid: number, utime: number, stime: number, cutime = 0, cstime = 0) {
  const middle = Array.from({ length: 9 }, () => '0').join(' ');
  return `${pid} (${comm}) S ${ppid} ${middle} ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 100 1000 50`;
}

function scenario(
  config: string,
  mode: 'max' | 'rate',
  over: Partial<ClusterScenarioResult> & { cpu?: Partial<Record<CpuPart, number>> } = {},
): ClusterScenarioResult {
  const { cpu, ...rest } = over;
  return {
    config,
    users: 1_000,
    mode,
    offered: mode === 'rate' ? 2_000 : null,
    expected: 10_000,
    received: 10_000,
    eventsPerSec: 5_000,
    p50Ms: 2,
    p99Ms: 20,
    maxMs: 40,
    windowMs: 2_000,
    cpuSeconds: { all: 0, api: 0, worker: 0, postgres: 0, redis: 0, clients: 0, other: 0, ...cpu },
    machineBusyCores: 2,
    clientProcesses: 1,
    connectFailures: 0,
    errors: 0,
    timedOut: false,
    deadlineMs: 35_000,
    ...rest,
  };
}

describe('/proc parsing', () => {
  it('reads CPU ticks and the parent from a stat line whose command name holds spaces and parentheses', () => {
    const stat = parseProcStat(statLine(4242, 'postgres: toolrun db (idle) x', 17, 1_234, 56, 7, 8));
    expect(stat).toEqual({
      pid: 4242,
      comm: 'postgres: toolrun db (idle) x',
      ppid: 17,
      utime: 1_234,
      stime: 56,
      cutime: 7,
      cstime: 8,
    });
  });

  it('refuses a line that is not a stat line rather than reading zeros', () => {
    expect(() => parseProcStat('garbage')).toThrow(/not a \/proc stat line/);
    expect(() => parseProcStat('1 (x) S notanumber')).toThrow(/not a number/);
  });

  it("reads the machine's busy and total ticks, idle and iowait not busy", () => {
    const text = 'cpu  100 5 50 800 40 3 2 1 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1';
    expect(parseMachineStat(text)).toEqual({ busy: 161, total: 1_001 });
  });

  it("sums a group's growth: a root and its children, a child new in the window whole, exited children through the root", () => {
    const group = { roots: [10], withChildren: true };
    const before = readGroup(group, [
      { stat: parseProcStat(statLine(10, 'postgres', 1, 100, 10, 5, 0)) },
      { stat: parseProcStat(statLine(11, 'postgres: a', 10, 200, 20)) },
      { stat: parseProcStat(statLine(12, 'postgres: b', 10, 50, 0)) },
      { stat: parseProcStat(statLine(99, 'node', 1, 9_999, 0)) },
    ]);
    const after = readGroup(group, [
      // 12 exited (its 60 ticks reaped into the root's cutime); 13 is new.
      { stat: parseProcStat(statLine(10, 'postgres', 1, 110, 10, 65, 0)) },
      { stat: parseProcStat(statLine(11, 'postgres: a', 10, 230, 20)) },
      { stat: parseProcStat(statLine(13, 'postgres: c', 10, 40, 0)) },
      { stat: parseProcStat(statLine(99, 'node', 1, 20_000, 0)) },
    ]);
    // root 10 + child 11 30 + new 13 40 + what 12 used in the window (60 reaped, 50 of them before).
    expect(groupSecondsBetween(before, after, 100)).toBeCloseTo((10 + 30 + 40 + 10) / 100);
    const alone = readGroup({ roots: [99], withChildren: false }, [
      { stat: parseProcStat(statLine(99, 'node', 1, 20_000, 0)) },
    ]);
    expect([...alone.keys()]).toEqual([99]);
  });

  it('finds a process by its command line', () => {
    const processes = [
      { stat: parseProcStat(statLine(5, 'redis-server', 1, 0, 0)), cmdline: 'redis-server 127.0.0.1:6380' },
      { stat: parseProcStat(statLine(6, 'redis-server', 1, 0, 0)), cmdline: 'redis-server 127.0.0.1:41234' },
    ];
    expect(findProcess(processes, (c) => c.includes(':41234'))).toBe(6);
    expect(findProcess(processes, (c) => c.includes(':1'))).toBeUndefined();
  });
});

describe('deployments and load', () => {
  it('names deployments as the figure ids do, and counts their server processes', () => {
    expect(deploymentsFor(false).map((c) => c.name)).toEqual([
      'single-pg',
      'single-sqlite',
      '1api1w',
      '2api2w',
      '2api3w',
    ]);
    expect(deploymentsFor(false, 'api').at(-1)?.name).toBe('3api2w');
    expect(deploymentsFor(true).map((c) => c.name)).toEqual(['single-pg', '2api2w']);
    expect(serverProcesses(single('postgres'))).toBe(1);
    expect(serverProcesses(cluster(2, 3))).toBe(5);
    expect(() => cluster(0, 2)).toThrow(/at least one API/);
    expect(clusterFigureId('p99_ms', 'single-pg', 2_000)).toBe('cluster.p99_ms.single-pg.2000');
    expect(clusterFigureId('events_per_s', '2api2w')).toBe('cluster.events_per_s.2api2w');
  });

  it('offers 2,000 events/s in total over 1,000 users for 5 s, and the max rate one event per run per turn', () => {
    const load = clusterLoad(false);
    expect(load.users).toBe(1_000);
    expect(clusterPlan('rate', load)).toEqual({ perRun: 10, ratePerRun: 2, burst: 1 });
    expect(clusterPlan('max', load)).toEqual({ perRun: 50, burst: 1 });
  });

  it("round-trips a host's configuration through its environment, and refuses a worker without Redis", () => {
    const config = {
      role: 'worker' as const,
      databaseUrl: 'postgres://toolrun@127.0.0.1:5/db',
      redisUrl: 'redis://127.0.0.1:6',
      workerConcurrency: 2_000,
    };
    expect(hostEnv(hostEnvVars(config))).toEqual(config);
    expect(hostEnv({})).toEqual({ role: 'all', databaseUrl: undefined, redisUrl: undefined, workerConcurrency: 2_000 });
    expect(() => hostEnv({ BENCH_ROLE: 'api' })).toThrow(/BENCH_REDIS_URL/);
    expect(() => hostEnv({ BENCH_REDIS_URL: 'redis://x' })).toThrow(/BENCH_DATABASE_URL/);
  });
});

describe('clusterFigures and clusterTable', () => {
  const results = [
    scenario('single-pg', 'max', { eventsPerSec: 8_000, received: 50_000, cpu: { all: 4, postgres: 1 } }),
    scenario('single-pg', 'rate', { p50Ms: 5, p99Ms: 40 }),
    scenario('2api2w', 'max', {
      eventsPerSec: 4_000,
      received: 50_000,
      cpu: { api: 2, worker: 5, postgres: 2, redis: 1, clients: 1, other: 3 },
    }),
    scenario('2api2w', 'rate', {
      p50Ms: 50,
      p99Ms: null,
      received: 9_000,
      committed: { completed: { runs: 1_000, thinking: 10_000 } },
    }),
  ];
  const figures = clusterFigures({
    results,
    configs: deploymentsFor(true),
    offered: 2_000,
    users: 1_000,
    cores: 2,
    loadAverage: { before: [3, 2, 1], after: [4, 3, 2] },
  });
  const byId = (id: string) => figures.find((f) => f.id === id);

  it("states the machine's core count and load average next to the figures", () => {
    expect(byId('cluster.machine_cores')).toMatchObject({ value: 2, unit: 'count' });
    expect(byId('cluster.machine_cores')?.note).toBe(
      'load average (1/5/15 min) 3.00 / 2.00 / 1.00 before, 4.00 / 3.00 / 2.00 after',
    );
  });

  it('compares every deployment with single mode on PostgreSQL measured in the same run', () => {
    expect(byId('cluster.events_per_s.single-pg')).toMatchObject({ value: 8_000 });
    expect(byId('cluster.events_per_s.single-pg')?.baseline).toBeUndefined();
    expect(byId('cluster.events_per_s.2api2w')).toMatchObject({ value: 4_000, ratio: 0.5 });
    expect(byId('cluster.p50_ms.2api2w.2000')).toMatchObject({ value: 50, ratio: 10 });
  });

  it('shows a p99 on events that never arrived as the deadline, and says how many arrived and were committed', () => {
    expect(byId('cluster.p99_ms.2api2w.2000')).toMatchObject({ value: 35_000 });
    // The database says whether the missing events were never emitted or emitted and not delivered.
    expect(byId('cluster.p99_ms.2api2w.2000')?.note).toBe(
      '9,000 of 10,000 events arrived within 35,000 ms; committed: 1,000 runs completed with 10,000 events',
    );
  });

  it('reports CPU per delivered event per part, only the parts a deployment has', () => {
    // (2 + 5 + 2 + 1) s over 50,000 events; the clients and the rest of the machine are not the server.
    expect(byId('cluster.cpu_us_per_event.2api2w')).toMatchObject({ value: 200, ratio: 2 });
    expect(byId('cluster.cpu_us_per_event.2api2w.worker')).toMatchObject({ value: 100 });
    expect(byId('cluster.cpu_us_per_event.single-pg.all')).toMatchObject({ value: 80 });
    expect(byId('cluster.cpu_us_per_event.single-pg.redis')).toBeUndefined();
    expect(partsOf(single('sqlite'))).toEqual(['all']);
    expect(cpuUsPerEvent(scenario('x', 'max', { received: 0 }), ['all'])).toBeNull();
  });

  it('writes the tables BENCHMARKS.md shows: ratio to single-pg, latency, CPU per part, cores per part', () => {
    const table = clusterTable(results);
    expect(table).toContain('| single-pg | 8,000 (1.00×) | 5.00 / 40 | 80 / – / – / 20 / – = 100 |');
    expect(table).toContain(
      '| 2api2w | 4,000 (0.50×) | 50 / 35000 (9,000 of 10,000 arrived) | – / 40 / 100 / 40 / 20 = 200 |',
    );
    // 2 s window: 5 s of worker CPU is 2.5 cores.
    expect(table).toContain('| 2api2w | max rate | 200 / 20 | 0.00 / 1.00 / 2.50 / 1.00 / 0.50 / 0.50 / 1.50 | 2.00 |');
    expect(table).toContain(
      '| single-pg | 2,000 events/s | – / – | 0.00 / 0.00 / 0.00 / 0.00 / 0.00 / 0.00 / 0.00 | 2.00 |',
    );
  });
});
