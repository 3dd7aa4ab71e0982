import { describe, expect, it } from 'vitest';
import type { MetricsSnapshot } from '../../lib/types.ts';
import { appendPoint, columns, KEY, keysWithPrefix, toPoint } from './metricsSeries.ts';

function snapshot(atMs: number, events: number, extra: Partial<MetricsSnapshot> = {}): MetricsSnapshot {
  return {
    at: new Date(atMs).toISOString(),
    liveScopes: 2,
    peakScopes: 4,
    activeRuns: 1,
    executions: [{ tool: 'search', status: 'success', count: events / 2 }],
    toolLatency: [{ tool: 'search', count: 3, p50: 1, p95: 5, p99: 9, max: 12 }],
    durationHistogram: { bucketsMs: [1, 10], counts: [1, 1, 1], sumMs: 20, count: 3 },
    eventsByType: {
      agent_started: events,
      agent_thinking: 0,
      tool_executing: 0,
      tool_completed: 0,
      agent_completed: 0,
    },
    runsByStatus: { completed: 3, failed: 0, cancelled: 1, interrupted: 0 },
    limitHits: {},
    contractViolations: 0,
    isolationViolations: 0,
    isolationViolationsByKind: {},
    legacyCalls: { 'ToolDispatcher.createRequestScoped': 2 },
    lateResults: {},
    ...extra,
  };
}

describe('metrics series', () => {
  it('derives events per second from the difference of two successive snapshots', () => {
    const first = toPoint(snapshot(10_000, 100), undefined);
    expect(first.values[KEY.eventsPerSec]).toBeNull();
    const second = toPoint(snapshot(12_000, 160), snapshot(10_000, 100));
    expect(second.values[KEY.eventsPerSec]).toBe(30);
    expect(second.values[KEY.executionsPerSec]).toBe(15);
    expect(second.values[KEY.latency('search', 'p95')]).toBe(5);
    expect(second.values[KEY.runs('cancelled')]).toBe(1);
  });

  it('shows no rate across a counter reset (a server restart) instead of a negative one', () => {
    expect(toPoint(snapshot(12_000, 5), snapshot(10_000, 100)).values[KEY.eventsPerSec]).toBeNull();
  });

  it('keeps the last N points and lays them out for uPlot with gaps as null', () => {
    let points = [toPoint(snapshot(1_000, 1), undefined)];
    points = appendPoint(points, { t: 2, values: { a: 1 } }, 2);
    points = appendPoint(points, { t: 3, values: { b: 2 } }, 2);
    expect(points.map((p) => p.t)).toEqual([2, 3]);
    expect(keysWithPrefix(points, '')).toEqual(['a', 'b']);
    expect(columns(points, ['a', 'b'])).toEqual([
      [2, 3],
      [1, null],
      [null, 2],
    ]);
  });
});
