import { describe, expect, it } from 'vitest';
import { createInMemoryMetrics, DURATION_BUCKETS_MS } from './metrics.ts';
import { runAgent } from './runAgent.ts';
import { contextFor, testAgents, testFactory } from './testSupport.ts';

describe('createInMemoryMetrics', () => {
  it('counts executions by tool and status, a duration histogram and latency percentiles', () => {
    const metrics = createInMemoryMetrics({ now: () => 0 });
    for (let i = 1; i <= 100; i++) metrics.toolExecuted('add', 'success', i);
    metrics.toolExecuted('add', 'error', 40_000);
    const snap = metrics.snapshot();
    expect(snap.at).toBe('1970-01-01T00:00:00.000Z');
    expect(snap.executions).toEqual([
      { tool: 'add', status: 'success', count: 100 },
      { tool: 'add', status: 'error', count: 1 },
    ]);
    expect(snap.toolLatency).toEqual([{ tool: 'add', count: 101, p50: 51, p95: 96, p99: 100, max: 40_000 }]);
    expect(snap.durationHistogram.bucketsMs).toEqual([...DURATION_BUCKETS_MS]);
    expect(snap.durationHistogram.counts.at(-1)).toBe(1);
    expect(snap.durationHistogram.counts.reduce((a, b) => a + b, 0)).toBe(101);
    expect(snap.durationHistogram.count).toBe(101);
  });

  it('tracks live and peak scopes, events by type, runs by status and violations from a real factory', async () => {
    const { factory, metrics } = testFactory();
    const planner = testAgents.find((a) => a.name === 'planner');
    if (!planner) throw new Error('planner missing');
    const scopes = [factory.forRequest(contextFor('a-user')), factory.forRequest(contextFor('b-user'))];
    expect(metrics.snapshot()).toMatchObject({ liveScopes: 2, peakScopes: 2 });
    const [first] = scopes;
    if (!first) throw new Error('no scope');
    const run = runAgent(first, planner, { n: 1 });
    expect(metrics.snapshot().activeRuns).toBe(1);
    await run;
    for (const scope of scopes) await scope[Symbol.asyncDispose]();
    const snap = metrics.snapshot();
    expect(snap).toMatchObject({
      liveScopes: 0,
      peakScopes: 2,
      activeRuns: 0,
      contractViolations: 0,
      isolationViolations: 0,
    });
    expect(snap.eventsByType).toEqual({
      agent_started: 1,
      agent_thinking: 2,
      tool_executing: 3,
      tool_completed: 3,
      agent_completed: 1,
    });
    expect(snap.runsByStatus).toEqual({ completed: 1, failed: 0, cancelled: 0, interrupted: 0 });
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });

  it('keeps its percentiles over a bounded window', () => {
    const metrics = createInMemoryMetrics();
    // The slow calls are older than the latest 2,048: they leave the percentiles but not max or count.
    for (let i = 0; i < 5_000; i++) metrics.toolExecuted('t', 'success', i < 2_000 ? 1_000 : 1);
    const [latency] = metrics.snapshot().toolLatency;
    expect(latency).toEqual({ tool: 't', count: 5_000, p50: 1, p95: 1, p99: 1, max: 1_000 });
  });
});
