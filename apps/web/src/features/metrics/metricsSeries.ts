import type { MetricsSnapshot } from '../../lib/types.ts';

/** One sample for the charts: time in unix seconds, and figures by series key. */
export interface MetricsPoint {
  t: number;
  values: Readonly<Record<string, number | null>>;
}

/** Series keys; records (runs by status, legacy calls, latency) get one key per entry. */
export const KEY = {
  eventsPerSec: 'events/s',
  executionsPerSec: 'tool calls/s',
  liveScopes: 'live scopes',
  activeRuns: 'active runs',
  runs: (status: string) => `runs.${status}`,
  legacy: (entry: string) => `legacy.${entry}`,
  legacyPerSec: 'legacy calls/s',
  latency: (tool: string, p: 'p50' | 'p95' | 'p99') => `latency.${tool}.${p}`,
} as const;

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function rate(now: number, before: number | undefined, seconds: number): number | null {
  // No previous sample, no time passed, or a counter that went down (server restarted): no rate.
  if (before === undefined || seconds <= 0 || now < before) return null;
  return (now - before) / seconds;
}

/**
 * Turns a snapshot (and the one before it) into a chart point: rates from the difference of
 * successive counters, gauges and per-tool latency percentiles as they are.
 */
export function toPoint(next: MetricsSnapshot, prev: MetricsSnapshot | undefined): MetricsPoint {
  const t = Date.parse(next.at) / 1_000;
  const seconds = prev === undefined ? 0 : t - Date.parse(prev.at) / 1_000;
  const events = sum(Object.values(next.eventsByType));
  const executions = sum(next.executions.map((e) => e.count));
  const legacy = sum(Object.values(next.legacyCalls));
  const values: Record<string, number | null> = {
    [KEY.eventsPerSec]: rate(events, prev && sum(Object.values(prev.eventsByType)), seconds),
    [KEY.executionsPerSec]: rate(executions, prev && sum(prev.executions.map((e) => e.count)), seconds),
    [KEY.legacyPerSec]: rate(legacy, prev && sum(Object.values(prev.legacyCalls)), seconds),
    [KEY.liveScopes]: next.liveScopes,
    [KEY.activeRuns]: next.activeRuns,
  };
  for (const [status, count] of Object.entries(next.runsByStatus)) values[KEY.runs(status)] = count;
  for (const [entry, count] of Object.entries(next.legacyCalls)) values[KEY.legacy(entry)] = count;
  for (const l of next.toolLatency) {
    values[KEY.latency(l.tool, 'p50')] = l.p50;
    values[KEY.latency(l.tool, 'p95')] = l.p95;
    values[KEY.latency(l.tool, 'p99')] = l.p99;
  }
  return { t: Number.isFinite(t) ? t : Date.now() / 1_000, values };
}

/** Appends a point, keeping the last `max`. */
export function appendPoint(points: readonly MetricsPoint[], point: MetricsPoint, max = 300): MetricsPoint[] {
  const next = [...points, point];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Every key seen in the points that starts with `prefix`, sorted. */
export function keysWithPrefix(points: readonly MetricsPoint[], prefix: string): string[] {
  const keys = new Set<string>();
  for (const p of points) for (const k of Object.keys(p.values)) if (k.startsWith(prefix)) keys.add(k);
  return [...keys].sort();
}

/** uPlot's data layout: x values first, then one column per key (`null` where a point lacks it). */
export function columns(points: readonly MetricsPoint[], keys: readonly string[]): [number[], ...(number | null)[][]] {
  return [points.map((p) => p.t), ...keys.map((k) => points.map((p) => p.values[k] ?? null))];
}
