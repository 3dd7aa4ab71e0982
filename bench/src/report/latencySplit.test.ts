import { describe, expect, it } from 'vitest';
import { scenarioResult } from '../servers/scenarioResult.fixture.ts';
import { latencySplitTable } from './latencySplit.ts';

describe('latencySplitTable', () => {
  it('splits every fixed-rate latency into server, client and queueing, beside the server CPU, GC, loop delay and stalls', () => {
    const table = latencySplitTable([
      scenarioResult('trpc-ws', 1_000, 'max'),
      scenarioResult('trpc-ws', 1_000, 'rate', {
        offered: 2_000,
        p50Ms: 1.5,
        p99Ms: 12,
        serverP99Ms: 8,
        serverStalls: { count: 2, totalMs: 140, longestMs: 100, cpuMs: 9 },
      }),
      scenarioResult('raw-ws', 1_000, 'rate', { offered: 2_000, serverP50Ms: null, serverP99Ms: null }),
    ]).split('\n');
    // A header, its rule and one row per fixed-rate scenario: the maximum-rate one is left out.
    expect(table).toHaveLength(4);
    expect(table[2]).toBe(
      '| tRPC wsLink | 1,000 | 2,000 | 1.50 / 0.50 / 0.05 / 0.45 | 12 / 8.00 / 0.50 / 2.50 | 30 | 1, 2 | 5 | 2, 140 (9.00) |',
    );
    // Raw ws has no server histogram: its server share is shown as not measured, not as zero.
    expect(table[3]).toContain('| raw ws | 1,000 | 2,000 | 1.00 / – / 0.05 / 0.45 |');
  });
});
