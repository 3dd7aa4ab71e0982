import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../harness/benchmark.ts';
import type { StreamPlan, TransportName } from '../servers/protocol.ts';
import { type RemoteHost, startHost } from '../servers/remote.ts';
import { runScenario, type ScenarioResult } from '../servers/runScenario.ts';

/**
 * Issue 21's young-generation trial: the Toolrun server started with each `--max-semi-space-size`
 * (MB; `default` is Node's own) beside raw ws, all hosts up at once and the scenarios interleaved
 * round by round, so every setting sees the same machine. At 1,000 users: 2,000 events/s (latency,
 * GC pauses) and the maximum rate (throughput, CPU per event), over wsLink and SSE.
 *
 * Run: `node --import tsx bench/src/benchmarks/transportGc.ts [rounds] [sizes…]`
 * (default: 2 rounds, sizes `default 16 32 64`). Prints one line per scenario and a median table.
 */
async function main(): Promise<void> {
  const [roundsArg, ...sizeArgs] = process.argv.slice(2);
  const rounds = Number(roundsArg ?? 2);
  const sizes = sizeArgs.length > 0 ? sizeArgs : ['default', '16', '32', '64'];
  const benchRoot = join(fileURLToPath(import.meta.url), '../../..');
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const ctx: BenchContext = {
    quick: false,
    signal: abort.signal,
    repoRoot: join(benchRoot, '..'),
    benchRoot,
    profile: false,
    buildWeb: false,
    log: (message) => process.stderr.write(`${message}\n`),
  };
  const users = 1_000;
  const hosts = new Map<string, RemoteHost>();
  try {
    hosts.set('raw', await startHost({ kind: 'raw-ws', benchRoot }));
    for (const size of sizes) {
      const execArgv = size === 'default' ? [] : [`--max-semi-space-size=${size}`];
      hosts.set(size, await startHost({ kind: 'toolrun', benchRoot, execArgv }));
    }
    const scenarios: { offered: number | null; plan: StreamPlan }[] = [
      { offered: 2_000, plan: { perRun: 4, ratePerRun: 2, burst: 1 } },
      { offered: null, plan: { perRun: 24, burst: 1 } },
    ];
    const results: { host: string; transport: TransportName; offered: number | null; r: ScenarioResult }[] = [];
    for (let round = 0; round < rounds && !abort.signal.aborted; round++) {
      for (const { offered, plan } of scenarios) {
        // A different order each round: no setting always runs first after a pause.
        const order = [...hosts.keys()];
        if (round % 2 === 1) order.reverse();
        for (const name of order) {
          const host = hosts.get(name) as RemoteHost;
          const transports: TransportName[] = name === 'raw' ? ['raw-ws'] : ['trpc-ws', 'trpc-sse'];
          for (const transport of transports) {
            const r = await runScenario({
              ctx,
              host,
              transport,
              users,
              mode: offered === null ? 'max' : 'rate',
              plan,
              offered,
              deadlineMs: offered === null ? 10_000 : 6_000,
            });
            results.push({ host: name, transport, offered, r });
            ctx.log(
              `round ${round + 1} ${name.padEnd(7)} ${transport.padEnd(8)} ${offered ?? 'max'}: ` +
                `${Math.round(r.eventsPerSec ?? 0)} events/s, p50 ${r.p50Ms?.toFixed(2)} p99 ${r.p99Ms?.toFixed(2)} ms, ` +
                `server ${r.serverCpuUsPerEvent?.toFixed(1)} µs/event, GC ${r.serverGc.count} pauses ` +
                `(${r.serverGc.totalMs.toFixed(0)} ms, longest ${r.serverGc.maxMs.toFixed(1)}), loop p99 ${r.serverLoopDelayP99Ms} ms`,
            );
          }
        }
      }
    }
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length === 0 ? Number.NaN : ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2;
    };
    process.stdout.write('host     transport offered  events/s   p99 ms  µs/event  GC pauses  GC ms  longest\n');
    for (const name of hosts.keys()) {
      for (const transport of ['raw-ws', 'trpc-ws', 'trpc-sse'] as const) {
        for (const { offered } of scenarios) {
          const rs = results.filter((x) => x.host === name && x.transport === transport && x.offered === offered);
          if (rs.length === 0) continue;
          const m = (f: (r: ScenarioResult) => number | null) => median(rs.map((x) => f(x.r) ?? Number.NaN));
          process.stdout.write(
            `${name.padEnd(8)} ${transport.padEnd(9)} ${String(offered ?? 'max').padEnd(8)} ${m((r) => r.eventsPerSec)
              .toFixed(0)
              .padStart(8)} ` +
              `${m((r) => r.p99Ms)
                .toFixed(1)
                .padStart(8)} ${m((r) => r.serverCpuUsPerEvent)
                .toFixed(1)
                .padStart(9)} ` +
              `${m((r) => r.serverGc.count)
                .toFixed(1)
                .padStart(10)} ${m((r) => r.serverGc.totalMs)
                .toFixed(0)
                .padStart(6)} ` +
              `${m((r) => r.serverGc.maxMs)
                .toFixed(1)
                .padStart(8)}\n`,
          );
        }
      }
    }
  } finally {
    await Promise.all([...hosts.values()].map((h) => h.close()));
  }
}

await main();
