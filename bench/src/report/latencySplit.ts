import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunResults } from '../harness/types.ts';
import { LABEL, type ScenarioResult } from '../servers/runScenario.ts';

/** Milliseconds for a table: two decimals under 10, whole above, `–` when there is no value. */
export const ms = (value: number | null | undefined) =>
  value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : value < 10
      ? value.toFixed(2)
      : value.toFixed(0);

/** `count, total (cpu)`; `–` for results written before the stalls were measured. */
const stalls = (s: ScenarioResult['serverStalls'] | undefined) =>
  s === undefined ? '–' : `${s.count}, ${ms(s.totalMs)} (${ms(s.cpuMs)})`;

/**
 * The transport benchmark's latency figures as a Markdown table, each split into the server's share
 * (emit → socket, from its `toolrun_event_delivery_seconds`), the client's (reading → handled) and
 * queueing (the rest), with the server's CPU per event, GC pauses, event-loop delay and stalls beside them:
 * what BENCHMARKS.md shows for every latency figure. Only fixed-rate scenarios (latency at the
 * maximum rate is mostly queueing by design: the load is offered faster than anything delivers it).
 *
 * @example
 * latencySplitTable(results.benchmarks.find((b) => b.name === 'transport')?.details?.scenarios)
 */
export function latencySplitTable(scenarios: readonly ScenarioResult[]): string {
  const header =
    '| transport | users | offered events/s | p50 total / server / client / queueing (ms) | p99 total / server / client / queueing (ms) | server CPU µs/event | server GC pauses (count, longest ms) | server loop delay p99 (ms) | server stalls ≥ 25 ms: count, total ms (CPU ms in them) |';
  const lines = [header, '|---|---|---|---|---|---|---|---|---|'];
  const rated = scenarios.filter((s) => s.mode === 'rate');
  for (const s of rated) {
    const split = (total: number | null, server: number | null, client: number | null, queue: number | null) =>
      `${ms(total ?? s.deadlineMs)} / ${ms(server)} / ${ms(client)} / ${ms(queue)}`;
    lines.push(
      `| ${LABEL[s.transport]} | ${s.users.toLocaleString('en-US')} | ${(s.offered ?? 0).toLocaleString('en-US')} | ` +
        `${split(s.p50Ms, s.serverP50Ms, s.clientP50Ms, s.queueP50Ms)} | ${split(s.p99Ms, s.serverP99Ms, s.clientP99Ms, s.queueP99Ms)} | ` +
        `${s.serverCpuUsPerEvent?.toFixed(0) ?? '–'} | ${s.serverGc === undefined ? '–' : `${s.serverGc.count}, ${s.serverGc.maxMs}`} | ${s.serverLoopDelayP99Ms} | ${stalls(s.serverStalls)} |`,
    );
  }
  return lines.join('\n');
}

// `node --import tsx src/report/latencySplit.ts results/latest.json` prints the table of a results file.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = process.argv[2] ?? 'results/latest.json';
  const results = JSON.parse(readFileSync(path, 'utf8')) as RunResults;
  const transport = results.benchmarks.find((b) => b.name === 'transport');
  const scenarios = (transport?.details?.scenarios ?? []) as ScenarioResult[];
  console.log(latencySplitTable(scenarios));
}
