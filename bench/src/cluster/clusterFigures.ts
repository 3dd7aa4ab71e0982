import { figure } from '../harness/figure.ts';
import type { Figure } from '../harness/types.ts';
import type { ClusterScenarioResult, CpuPart } from './clusterScenario.ts';
import { BASELINE, type DeploymentConfig } from './deployments.ts';

/** The parts of a deployment that serve it (the clients and everything else on the machine are not). */
export const SERVER_PARTS: readonly CpuPart[] = ['all', 'api', 'worker', 'postgres', 'redis'];

/** The parts a deployment has: its roles, and PostgreSQL and Redis when it uses them. */
export function partsOf(config: DeploymentConfig): CpuPart[] {
  const roles: CpuPart[] = config.mode === 'single' ? ['all'] : ['api', 'worker'];
  return [
    ...roles,
    ...(config.database === 'postgres' ? (['postgres'] as const) : []),
    ...(config.mode === 'cluster' ? (['redis'] as const) : []),
  ];
}

/** CPU µs per delivered event of `parts` in a scenario; `null` when nothing arrived. */
export function cpuUsPerEvent(result: ClusterScenarioResult, parts: readonly CpuPart[]): number | null {
  if (result.received <= 0) return null;
  const seconds = parts.reduce((sum, p) => sum + result.cpuSeconds[p], 0);
  return (seconds * 1e6) / result.received;
}

/** The figure id of a metric of a deployment: `cluster.<metric>.<config>[.<qualifier>]`. */
export function clusterFigureId(metric: string, config: string, qualifier?: string | number): string {
  return `cluster.${metric}.${config}${qualifier === undefined ? '' : `.${qualifier}`}`;
}

/**
 * Turns the scenarios of a run into figures: per deployment, max events/s, p50/p99 at the fixed
 * offered rate and server CPU per event (in total and per part) at the max rate, each against single
 * mode on the same PostgreSQL ({@link BASELINE}) measured in the same run; and the machine's core
 * count with its load average, without which none of these can be read.
 */
export function clusterFigures(opts: {
  results: readonly ClusterScenarioResult[];
  configs: readonly DeploymentConfig[];
  offered: number;
  users: number;
  cores: number;
  loadAverage: { before: readonly number[]; after: readonly number[] };
}): Figure[] {
  const { results, offered } = opts;
  const find = (config: string, mode: 'max' | 'rate') => results.find((r) => r.config === config && r.mode === mode);
  const n = (count: number) => count.toLocaleString('en-US');
  const load = (l: readonly number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  const figures: Figure[] = [
    figure({
      id: 'cluster.machine_cores',
      label: 'cores of the machine every process of this benchmark shares (os.cpus().length)',
      value: opts.cores,
      unit: 'count',
      note: `load average (1/5/15 min) ${load(opts.loadAverage.before)} before, ${load(opts.loadAverage.after)} after`,
    }),
  ];
  const baseMax = find(BASELINE, 'max');
  const baseRate = find(BASELINE, 'rate');
  const missing = (r: ClusterScenarioResult | undefined) =>
    r === undefined
      ? { note: 'not measured' }
      : r.received < r.expected
        ? {
            note:
              `${n(r.received)} of ${n(r.expected)} events arrived within ${n(r.deadlineMs)} ms` +
              (r.committed === undefined
                ? ''
                : `; committed: ${Object.entries(r.committed)
                    .map(([status, c]) => `${n(c.runs)} runs ${status} with ${n(c.thinking)} events`)
                    .join(', ')}`),
          }
        : {};
  for (const config of opts.configs) {
    const isBase = config.name === BASELINE;
    const max = find(config.name, 'max');
    const rate = find(config.name, 'rate');
    const against = (value: number | null | undefined, unit: 'events/s' | 'ms' | 'µs') =>
      isBase || value == null ? {} : { baseline: { label: 'single mode on PostgreSQL, same run', value, unit } };
    figures.push(
      figure({
        id: clusterFigureId('events_per_s', config.name),
        label: `${config.label}: max events/s delivered, ${n(opts.users)} users`,
        value: max?.eventsPerSec ?? null,
        unit: 'events/s',
        ...against(baseMax?.eventsPerSec, 'events/s'),
        ...missing(max),
      }),
    );
    for (const [p, pick] of [
      ['p50', (r: ClusterScenarioResult) => r.p50Ms],
      ['p99', (r: ClusterScenarioResult) => r.p99Ms],
    ] as const) {
      figures.push(
        figure({
          id: clusterFigureId(`${p}_ms`, config.name, offered),
          label: `${config.label}: ${p} emit→receipt latency at ${n(offered)} events/s offered, ${n(opts.users)} users`,
          // A percentile on an event that never arrived is at least the deadline: shown as the deadline.
          value: rate === undefined ? null : (pick(rate) ?? rate.deadlineMs),
          unit: 'ms',
          ...against(baseRate === undefined ? null : pick(baseRate), 'ms'),
          ...missing(rate),
        }),
      );
    }
    const parts = partsOf(config);
    figures.push(
      figure({
        id: clusterFigureId('cpu_us_per_event', config.name),
        label: `${config.label}: server CPU per delivered event at max rate (${parts.join(' + ')})`,
        value: max === undefined ? null : cpuUsPerEvent(max, parts),
        unit: 'µs',
        ...against(baseMax === undefined ? null : cpuUsPerEvent(baseMax, partsOf(configOf(opts.configs))), 'µs'),
      }),
    );
    for (const part of parts) {
      figures.push(
        figure({
          id: clusterFigureId('cpu_us_per_event', config.name, part),
          label: `${config.label}: ${PART_LABEL[part]} CPU per delivered event at max rate`,
          value: max === undefined ? null : cpuUsPerEvent(max, [part]),
          unit: 'µs',
        }),
      );
    }
  }
  return figures;
}

/** The baseline's configuration among `configs` (its parts are what its CPU per event sums). */
function configOf(configs: readonly DeploymentConfig[]): DeploymentConfig {
  const base = configs.find((c) => c.name === BASELINE);
  if (base === undefined) throw new Error(`the deployments have no ${BASELINE} baseline`);
  return base;
}

/** How tables name each part. */
export const PART_LABEL: Record<CpuPart, string> = {
  all: 'server process (all roles)',
  api: 'API processes',
  worker: 'worker processes',
  postgres: 'PostgreSQL',
  redis: 'Redis',
  clients: 'bench clients',
  other: 'rest of the machine',
};
