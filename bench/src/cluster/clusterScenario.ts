import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { BenchContext } from '../harness/benchmark.ts';
import type { StreamPlan, StreamUser } from '../servers/protocol.ts';
import { startClient } from '../servers/remote.ts';
import { merge } from '../servers/runScenario.ts';
import { type GroupReading, groupSecondsBetween, listProcesses, parseMachineStat, readGroup } from './procCpu.ts';
import type { Deployment } from './startDeployment.ts';

/** Where CPU time goes: the server's roles, PostgreSQL, Redis, the bench's clients, and everything else. */
export const CPU_PARTS = ['all', 'api', 'worker', 'postgres', 'redis', 'clients', 'other'] as const;
export type CpuPart = (typeof CPU_PARTS)[number];

/** What one scenario on one deployment measured. */
export interface ClusterScenarioResult {
  config: string;
  users: number;
  mode: 'max' | 'rate';
  /** Events/s offered in total (`rate`); `null` at the maximum rate. */
  offered: number | null;
  expected: number;
  received: number;
  eventsPerSec: number | null;
  /** Emit (in a worker) to receipt (in a client process); `null` on an event that never arrived. */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** From `go` to the CPU reading after the last result. */
  windowMs: number;
  /** CPU seconds used in the window by each part (`other`: the machine's busy time nobody here used). */
  cpuSeconds: Record<CpuPart, number>;
  /** The machine's busy time in the window, in cores (2 = both cores of this machine all the time). */
  machineBusyCores: number;
  clientProcesses: number;
  connectFailures: number;
  errors: number;
  firstError?: string;
  timedOut: boolean;
  deadlineMs: number;
  /**
   * When events are missing and the deployment is on PostgreSQL: what its runs committed, by status
   * (runs, and `agent_thinking` events stored), to tell events never emitted from events not delivered.
   */
  committed?: Record<string, { runs: number; thinking: number }>;
}

let scenarios = 0;

/** A CPU reading of every part at one moment. */
interface Reading {
  at: number;
  hosts: Map<number, GroupReading>;
  groups: Map<'postgres' | 'redis', GroupReading>;
  machine: { busy: number; total: number };
}

function readAll(deployment: Deployment): Reading {
  const processes = listProcesses();
  const hosts = new Map<number, GroupReading>();
  for (const { host } of deployment.hosts)
    hosts.set(host.pid, readGroup({ roots: [host.pid], withChildren: false }, processes));
  const groups = new Map<'postgres' | 'redis', GroupReading>();
  for (const [name, group] of deployment.groups) groups.set(name, readGroup(group, processes));
  return { at: performance.now(), hosts, groups, machine: parseMachineStat(readFileSync('/proc/stat', 'utf8')) };
}

/**
 * One scenario on a running deployment: `users` users dealt out over its API processes, each
 * starting one run of the bench agent there (a worker executes it), one client process per API
 * process following its users' runs over tRPC WebSocket (the lean reader); then every runner opens
 * its gate at once and the clients measure emit-to-receipt latency. Every process's CPU is read
 * from `/proc` before `go` and after the last result.
 */
export async function runClusterScenario(opts: {
  ctx: BenchContext;
  deployment: Deployment;
  users: number;
  mode: 'max' | 'rate';
  plan: StreamPlan;
  offered: number | null;
  deadlineMs: number;
  /** Clock ticks per second of `/proc` times (`clockTicks()`). */
  ticksPerSecond: number;
}): Promise<ClusterScenarioResult> {
  const { ctx, deployment, plan } = opts;
  const ticks = opts.ticksPerSecond;
  scenarios += 1;
  const apis = deployment.apis;
  const shares = apis.map((_, k) => Math.floor(opts.users / apis.length) + (k < opts.users % apis.length ? 1 : 0));
  const lists: StreamUser[][] = await Promise.all(
    apis.map((api, k) => api.prepare({ users: shares[k] ?? 0, prefix: `c${scenarios}a${k}u`, plan })),
  );
  const clients = apis.map((api, k) =>
    startClient({
      benchRoot: ctx.benchRoot,
      job: {
        type: 'stream',
        transport: 'trpc-ws',
        reader: 'lean',
        url: api.url,
        users: lists[k] ?? [],
        perRun: plan.perRun,
        deadlineMs: opts.deadlineMs,
      },
      readyTimeoutMs: 180_000,
    }),
  );
  try {
    const ready = await Promise.all(clients.map((c) => c.ready));
    const before = readAll(deployment);
    const wentAt = await Promise.all(deployment.runners.map((r) => r.go()));
    const goAt = Math.min(...wentAt);
    for (const client of clients) client.go(goAt);
    const results = await Promise.all(clients.map((c) => c.result(opts.deadlineMs + 60_000)));
    const after = readAll(deployment);
    const expected = opts.users * plan.perRun;
    const merged = merge(results, expected);
    const elapsedMs = merged.lastAt === null ? null : merged.lastAt - goAt;
    const finite = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n : null);
    const cpuSeconds = Object.fromEntries(CPU_PARTS.map((p) => [p, 0])) as Record<CpuPart, number>;
    for (const { role, host } of deployment.hosts) {
      cpuSeconds[role] += groupSecondsBetween(
        before.hosts.get(host.pid) ?? new Map(),
        after.hosts.get(host.pid) ?? new Map(),
        ticks,
      );
    }
    for (const [name, reading] of after.groups) {
      cpuSeconds[name] += groupSecondsBetween(before.groups.get(name) ?? new Map(), reading, ticks);
    }
    cpuSeconds.clients = (merged.cpuUserUs + merged.cpuSystemUs) / 1e6;
    const windowMs = after.at - before.at;
    const runIds = lists.flat().map((u) => u.runId);
    const committed =
      merged.received < expected && deployment.databaseUrl !== undefined
        ? await committedRuns(deployment.databaseUrl, runIds)
        : undefined;
    const machineSeconds = (after.machine.busy - before.machine.busy) / ticks;
    const known = CPU_PARTS.filter((p) => p !== 'other').reduce((sum, p) => sum + cpuSeconds[p], 0);
    cpuSeconds.other = Math.max(0, machineSeconds - known);
    return {
      config: deployment.config.name,
      users: opts.users,
      mode: opts.mode,
      offered: opts.offered,
      expected,
      received: merged.received,
      eventsPerSec: elapsedMs === null || elapsedMs <= 0 ? null : merged.received / (elapsedMs / 1000),
      p50Ms: finite(merged.latency.p50),
      p99Ms: finite(merged.latency.p99),
      maxMs: finite(merged.latency.max),
      windowMs,
      cpuSeconds,
      machineBusyCores: windowMs > 0 ? machineSeconds / (windowMs / 1000) : 0,
      clientProcesses: clients.length,
      connectFailures: ready.reduce((n, r) => n + r.failed, 0),
      errors: merged.errors,
      ...(merged.firstError === undefined ? {} : { firstError: merged.firstError }),
      timedOut: merged.timedOut,
      deadlineMs: opts.deadlineMs,
      ...(committed === undefined ? {} : { committed }),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(deployment.hosts.map(({ host }) => host.cleanup().catch(() => {})));
  }
}

/** The runs' statuses in the database, with how many runs and `agent_thinking` events each has. */
async function committedRuns(
  databaseUrl: string,
  runIds: readonly string[],
): Promise<Record<string, { runs: number; thinking: number }>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; runs: string; thinking: string }>(
      `SELECT r.status, count(DISTINCT r.id) AS runs, count(e.run_id) FILTER (WHERE e.type = 'agent_thinking') AS thinking
         FROM runs r LEFT JOIN run_events e ON e.run_id = r.id
        WHERE r.id = ANY($1::text[]) GROUP BY r.status`,
      [runIds],
    );
    return Object.fromEntries(rows.map((r) => [r.status, { runs: Number(r.runs), thinking: Number(r.thinking) }]));
  } finally {
    await client.end();
  }
}
