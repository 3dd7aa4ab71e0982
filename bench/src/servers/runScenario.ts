import type { BenchContext } from '../harness/benchmark.ts';
import type { StreamPlan, TransportName } from './protocol.ts';
import { type RemoteHost, startClient } from './remote.ts';

/** What one scenario measured. */
export interface ScenarioResult {
  transport: TransportName;
  users: number;
  mode: 'max' | 'rate';
  offered: number | null;
  expected: number;
  received: number;
  messages: number;
  eventsPerSec: number | null;
  /** `null` when the percentile falls on an event that never arrived (see `deadlineMs`). */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  deadlineMs: number;
  serverCpuUsPerEvent: number | null;
  clientCpuUsPerEvent: number | null;
  /** p99 event-loop delay (ms) while measuring: work waiting behind a commit, a GC or a saturated loop. */
  serverLoopDelayP99Ms: number;
  clientLoopDelayP99Ms: number;
  connectFailures: number;
  errors: number;
  firstError?: string;
  timedOut: boolean;
}

/** How the tables name each transport. */
export const LABEL: Record<TransportName, string> = {
  'raw-ws': 'raw ws',
  'trpc-ws': 'tRPC wsLink',
  'trpc-sse': 'tRPC SSE',
  'trpc-sse-stock': 'tRPC SSE, stock writer',
  'trpc-ws-inline-db': 'tRPC wsLink, SQLite on the event loop',
};

let scenarioCounter = 0;

/** One scenario: prepare the users' runs, connect a fresh client process, go, measure, clean up. */
export async function runScenario(opts: {
  ctx: BenchContext;
  host: RemoteHost;
  transport: TransportName;
  users: number;
  mode: 'max' | 'rate';
  plan: StreamPlan;
  offered: number | null;
  deadlineMs: number;
  profilePath?: string;
}): Promise<ScenarioResult> {
  const { ctx, host, transport, users, plan } = opts;
  scenarioCounter += 1;
  const list = await host.prepare({ users, prefix: `s${scenarioCounter}u`, plan });
  const client = startClient({
    benchRoot: ctx.benchRoot,
    job: { type: 'stream', transport, url: host.url, users: list, perRun: plan.perRun, deadlineMs: opts.deadlineMs },
    readyTimeoutMs: 120_000,
  });
  try {
    const ready = await client.ready;
    if (opts.profilePath !== undefined) await host.profileStart();
    const before = await host.stats(false, true);
    const goAt = await host.go();
    client.go(goAt);
    const result = await client.result(opts.deadlineMs + 60_000);
    const after = await host.stats(false);
    if (opts.profilePath !== undefined) await host.profileStop(opts.profilePath);
    const elapsedMs = result.lastAt === null ? null : result.lastAt - goAt;
    const serverCpu = after.cpuUserUs + after.cpuSystemUs - (before.cpuUserUs + before.cpuSystemUs);
    const per = (us: number) => (result.received > 0 ? us / result.received : null);
    const finite = (n: number) => (Number.isFinite(n) ? n : null);
    return {
      transport,
      users,
      mode: opts.mode,
      offered: opts.offered,
      expected: users * plan.perRun,
      received: result.received,
      messages: result.messages,
      eventsPerSec: elapsedMs === null || elapsedMs <= 0 ? null : result.received / (elapsedMs / 1000),
      p50Ms: finite(result.latency.p50),
      p99Ms: finite(result.latency.p99),
      maxMs: finite(result.latency.max),
      deadlineMs: opts.deadlineMs,
      serverCpuUsPerEvent: per(serverCpu),
      clientCpuUsPerEvent: per(result.cpuUserUs + result.cpuSystemUs),
      serverLoopDelayP99Ms: after.loopDelay.p99,
      clientLoopDelayP99Ms: result.loopDelay.p99,
      connectFailures: ready.failed,
      errors: result.errors,
      ...(result.firstError === undefined ? {} : { firstError: result.firstError }),
      timedOut: result.timedOut,
    };
  } finally {
    await client.close();
    await host.cleanup();
  }
}
