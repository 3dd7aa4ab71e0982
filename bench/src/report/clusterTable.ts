import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpuUsPerEvent, SERVER_PARTS } from '../cluster/clusterFigures.ts';
import type { ClusterScenarioResult, CpuPart } from '../cluster/clusterScenario.ts';
import { BASELINE } from '../cluster/deployments.ts';
import type { RunResults } from '../harness/types.ts';
import { ms } from './latencySplit.ts';

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
const thousands = (value: number | null | undefined) =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : Math.round(value).toLocaleString('en-US');

/** The CPU of `part` in cores (seconds of CPU per second of the scenario's window). */
function cores(result: ClusterScenarioResult, part: CpuPart): number {
  return result.windowMs > 0 ? result.cpuSeconds[part] / (result.windowMs / 1000) : 0;
}

/**
 * The cluster benchmark's scenarios as two Markdown tables, as BENCHMARKS.md shows them: (1) per
 * deployment, max events/s (and its ratio to single mode on PostgreSQL), p50/p99 at the fixed
 * offered rate, and CPU per delivered event at the max rate for each part (API, worker or the single
 * process, PostgreSQL, Redis, and the server side in total); (2) the profile of every scenario (max
 * rate and fixed rate): where the cores went, part by part, and how busy the whole machine was.
 *
 * @example
 * clusterTable(results.benchmarks.find((b) => b.name === 'cluster')?.details?.scenarios)
 */
export function clusterTable(scenarios: readonly ClusterScenarioResult[]): string {
  const configs = [...new Set(scenarios.map((s) => s.config))];
  const find = (config: string, mode: 'max' | 'rate') => scenarios.find((s) => s.config === config && s.mode === mode);
  const baseline = find(BASELINE, 'max')?.eventsPerSec ?? null;
  const offered = scenarios.find((s) => s.mode === 'rate')?.offered ?? null;
  const perEvent = (r: ClusterScenarioResult | undefined, parts: readonly CpuPart[]) =>
    r === undefined || parts.every((p) => r.cpuSeconds[p] === 0) ? '–' : fixed(cpuUsPerEvent(r, parts), 0);
  const lines = [
    `| deployment | max events/s (× ${BASELINE}) | p50 / p99 at ${thousands(offered)} events/s (ms) | CPU µs per event: single process / API / worker / PostgreSQL / Redis = server total |`,
    '|---|---|---|---|',
  ];
  for (const config of configs) {
    const max = find(config, 'max');
    const rate = find(config, 'rate');
    const ratio = max?.eventsPerSec != null && baseline !== null && baseline > 0 ? max.eventsPerSec / baseline : null;
    const late = (r: ClusterScenarioResult | undefined) =>
      r !== undefined && r.received < r.expected
        ? ` (${thousands(r.received)} of ${thousands(r.expected)} arrived)`
        : '';
    const latency =
      rate === undefined
        ? '–'
        : `${ms(rate.p50Ms ?? rate.deadlineMs)} / ${ms(rate.p99Ms ?? rate.deadlineMs)}${late(rate)}`;
    const parts = (['all', 'api', 'worker', 'postgres', 'redis'] as const).map((p) => perEvent(max, [p])).join(' / ');
    lines.push(
      `| ${config} | ${thousands(max?.eventsPerSec)} (${fixed(ratio, 2)}×)${late(max)} | ${latency} | ${parts} = ${perEvent(max, SERVER_PARTS)} |`,
    );
  }
  lines.push(
    '',
    '| deployment | scenario | CPU µs per event: server total / bench clients | cores used: single process / API / worker / PostgreSQL / Redis / bench clients / rest of the machine | machine busy (cores) |',
    '|---|---|---|---|---|',
  );
  for (const config of configs) {
    for (const s of scenarios.filter((r) => r.config === config)) {
      const used = (['all', 'api', 'worker', 'postgres', 'redis', 'clients', 'other'] as const)
        .map((p) => fixed(cores(s, p), 2))
        .join(' / ');
      const scenario = s.offered === null ? 'max rate' : `${thousands(s.offered)} events/s`;
      lines.push(
        `| ${config} | ${scenario} | ${perEvent(s, SERVER_PARTS)} / ${perEvent(s, ['clients'])} | ${used} | ${fixed(s.machineBusyCores, 2)} |`,
      );
    }
  }
  return lines.join('\n');
}

// `node --import tsx src/report/clusterTable.ts results/partial.json` prints the tables of a results file.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = process.argv[2] ?? 'results/latest.json';
  const results = JSON.parse(readFileSync(path, 'utf8')) as RunResults;
  const cluster = results.benchmarks.find((b) => b.name === 'cluster');
  console.log(clusterTable((cluster?.details?.scenarios ?? []) as ClusterScenarioResult[]));
}
