import type { BenchContext } from '../harness/benchmark.ts';
import { percentile } from '../harness/stats.ts';
import { type DeliveryBuckets, deliveryBetween, deliveryQuantileMs, scrapeDelivery } from './deliveryHistogram.ts';
import type { ClientReader, ClientReply, StreamPlan, StreamUser, TransportName } from './protocol.ts';
import { type RemoteHost, startClient } from './remote.ts';
import type { Stalls } from './stallWatch.ts';

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
  /**
   * The server's share: emit to the message handed to the socket, from the server's own
   * `toolrun_event_delivery_seconds` (bucket-interpolated); `null` where the server has no such
   * histogram (raw ws sends at emit; tRPC's stock SSE writer is not timed).
   */
  serverP50Ms: number | null;
  serverP99Ms: number | null;
  /** The client's share: per message, from reading its bytes off the socket to having handled it. */
  clientP50Ms: number | null;
  clientP99Ms: number | null;
  /**
   * The rest, at the same percentile: total − server − client, never below 0. Time in the kernel's
   * socket buffers and waiting for the client's event loop (its earlier messages, its GC).
   */
  queueP50Ms: number | null;
  queueP99Ms: number | null;
  reader: ClientReader;
  clientProcesses: number;
  deadlineMs: number;
  serverCpuUsPerEvent: number | null;
  clientCpuUsPerEvent: number | null;
  /** p99 event-loop delay (ms) while measuring: work waiting behind a commit, a GC or a saturated loop. */
  serverLoopDelayP99Ms: number;
  clientLoopDelayP99Ms: number;
  /** The server's garbage-collection pauses while measuring: how many, their total and the longest (ms). */
  serverGc: { count: number; totalMs: number; maxMs: number };
  /**
   * Timers the server's and the client's event loops ran 25 ms or more late while measuring, with the
   * CPU each process spent meanwhile (see stallWatch.ts): an event in flight when its server stalls
   * waits the stall out, so the p99 follows `serverStalls.totalMs` (BENCHMARKS.md, issue 21).
   */
  serverStalls: Stalls;
  clientStalls: Stalls;
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

type ClientResult = Extract<ClientReply, { type: 'result' }>;

/** The delivery histogram's series a transport is timed under, if any. */
function deliverySeries(transport: TransportName): 'ws' | 'sse' | null {
  switch (transport) {
    case 'trpc-ws':
    case 'trpc-ws-inline-db':
      return 'ws';
    case 'trpc-sse':
      return 'sse';
    case 'raw-ws':
    case 'trpc-sse-stock':
      return null;
    default: {
      const never: never = transport;
      throw new Error(`unknown transport ${String(never)}`);
    }
  }
}

/**
 * One scenario: prepare the users' runs, connect fresh client processes (`clients`, default 1; the
 * users dealt out among them), go, measure, clean up. `reader` (default `lean`) is how the clients
 * read tRPC streams.
 */
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
  reader?: ClientReader;
  clients?: number;
}): Promise<ScenarioResult> {
  const { ctx, host, transport, users, plan } = opts;
  const reader = opts.reader ?? 'lean';
  scenarioCounter += 1;
  const list = await host.prepare({ users, prefix: `s${scenarioCounter}u`, plan });
  const processes = Math.max(1, Math.min(opts.clients ?? 1, list.length));
  const shares: StreamUser[][] = Array.from({ length: processes }, () => []);
  for (const [i, user] of list.entries()) shares[i % processes]?.push(user);
  const clients = shares.map((share) =>
    startClient({
      benchRoot: ctx.benchRoot,
      job: {
        type: 'stream',
        transport,
        reader,
        url: host.url,
        users: share,
        perRun: plan.perRun,
        deadlineMs: opts.deadlineMs,
      },
      readyTimeoutMs: 120_000,
    }),
  );
  const series = deliverySeries(transport);
  try {
    const ready = await Promise.all(clients.map((c) => c.ready));
    if (opts.profilePath !== undefined) await host.profileStart();
    const deliveryBefore = series === null ? null : await scrapeDelivery(host.url, series);
    const before = await host.stats(false, true);
    const goAt = await host.go();
    for (const client of clients) client.go(goAt);
    const results = await Promise.all(clients.map((c) => c.result(opts.deadlineMs + 60_000)));
    const after = await host.stats(false);
    const deliveryAfter = series === null ? null : await scrapeDelivery(host.url, series);
    if (opts.profilePath !== undefined) await host.profileStop(opts.profilePath);
    const result = merge(results, users * plan.perRun);
    const elapsedMs = result.lastAt === null ? null : result.lastAt - goAt;
    const serverCpu = after.cpuUserUs + after.cpuSystemUs - (before.cpuUserUs + before.cpuSystemUs);
    const per = (us: number) => (result.received > 0 ? us / result.received : null);
    const finite = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n : null);
    const server = serverShare(deliveryBefore, deliveryAfter);
    const p50Ms = finite(result.latency.p50);
    const p99Ms = finite(result.latency.p99);
    const clientP50Ms = finite(result.processing?.p50);
    const clientP99Ms = finite(result.processing?.p99);
    const rest = (total: number | null, serverMs: number | null, clientMs: number | null) =>
      total === null ? null : Math.max(0, total - (serverMs ?? 0) - (clientMs ?? 0));
    return {
      transport,
      users,
      mode: opts.mode,
      offered: opts.offered,
      expected: users * plan.perRun,
      received: result.received,
      messages: result.messages,
      eventsPerSec: elapsedMs === null || elapsedMs <= 0 ? null : result.received / (elapsedMs / 1000),
      p50Ms,
      p99Ms,
      maxMs: finite(result.latency.max),
      serverP50Ms: server.p50,
      serverP99Ms: server.p99,
      clientP50Ms,
      clientP99Ms,
      queueP50Ms: rest(p50Ms, server.p50, clientP50Ms),
      queueP99Ms: rest(p99Ms, server.p99, clientP99Ms),
      reader,
      clientProcesses: processes,
      deadlineMs: opts.deadlineMs,
      serverCpuUsPerEvent: per(serverCpu),
      clientCpuUsPerEvent: per(result.cpuUserUs + result.cpuSystemUs),
      serverLoopDelayP99Ms: after.loopDelay.p99,
      clientLoopDelayP99Ms: result.loopDelay.p99,
      serverGc: after.gc,
      serverStalls: after.stalls,
      clientStalls: result.stalls,
      connectFailures: ready.reduce((n, r) => n + r.failed, 0),
      errors: result.errors,
      ...(result.firstError === undefined ? {} : { firstError: result.firstError }),
      timedOut: result.timedOut,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await host.cleanup();
  }
}

/** The server's p50 and p99 between two scrapes of its delivery histogram. */
function serverShare(
  before: DeliveryBuckets | null,
  after: DeliveryBuckets | null,
): { p50: number | null; p99: number | null } {
  if (before === null || after === null) return { p50: null, p99: null };
  const between = deliveryBetween(before, after);
  return { p50: deliveryQuantileMs(between, 0.5), p99: deliveryQuantileMs(between, 0.99) };
}

/** One result from several client processes: sums, the widest window, percentiles over every sample. */
export function merge(results: readonly ClientResult[], expected: number): ClientResult {
  const first = results[0];
  if (first === undefined) throw new Error('no client results');
  if (results.length === 1) return first;
  const values: number[] = [];
  for (const r of results) for (const v of r.samples) values.push(v);
  for (let i = values.length; i < expected; i += 1) values.push(Number.POSITIVE_INFINITY);
  const processing = results.flatMap((r) => (r.processing === undefined ? [] : [r.processing]));
  const sum = (f: (r: ClientResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const times = (f: (r: ClientResult) => number | null) => results.map(f).filter((t): t is number => t !== null);
  const firstAt = times((r) => r.firstAt);
  const lastAt = times((r) => r.lastAt);
  return {
    ...first,
    received: sum((r) => r.received),
    completedRuns: sum((r) => r.completedRuns),
    messages: sum((r) => r.messages),
    firstAt: firstAt.length === 0 ? null : Math.min(...firstAt),
    lastAt: lastAt.length === 0 ? null : Math.max(...lastAt),
    latency: {
      count: values.length,
      p50: percentile(values, 50),
      p90: percentile(values, 90),
      p99: percentile(values, 99),
      max: values.reduce((a, b) => Math.max(a, b), Number.NaN),
    },
    // Each process's own percentiles; the slowest process's stand for the client (no samples merged).
    ...(processing.length === 0
      ? {}
      : {
          processing: {
            count: sum((r) => r.processing?.count ?? 0),
            p50: Math.max(...processing.map((p) => p.p50)),
            p90: Math.max(...processing.map((p) => p.p90)),
            p99: Math.max(...processing.map((p) => p.p99)),
            max: Math.max(...processing.map((p) => p.max)),
          },
        }),
    errors: sum((r) => r.errors),
    cpuUserUs: sum((r) => r.cpuUserUs),
    cpuSystemUs: sum((r) => r.cpuSystemUs),
    loopDelay: {
      p50: Math.max(...results.map((r) => r.loopDelay.p50)),
      p99: Math.max(...results.map((r) => r.loopDelay.p99)),
      max: Math.max(...results.map((r) => r.loopDelay.max)),
    },
    // The slowest process's, as for the processing time.
    stalls: results.map((r) => r.stalls).reduce((a, b) => (b.totalMs > a.totalMs ? b : a)),
    timedOut: results.some((r) => r.timedOut),
  };
}
