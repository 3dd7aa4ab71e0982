import { describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../servers/runScenario.ts';
import { scenarioResult as result } from '../servers/scenarioResult.fixture.ts';
import { transportFigures } from './transport.ts';

describe('transportFigures', () => {
  const results: ScenarioResult[] = [
    result('raw-ws', 1_000, 'max', { eventsPerSec: 40_000 }),
    result('trpc-ws', 1_000, 'max', { eventsPerSec: 32_000 }),
    result('trpc-sse', 1_000, 'max', { eventsPerSec: 2_000, timedOut: true }),
    result('trpc-sse-stock', 1_000, 'max', { eventsPerSec: 1_000 }),
    result('raw-ws', 1_000, 'rate', { p99Ms: 0.5 }),
    result('trpc-ws', 1_000, 'rate', { p99Ms: 3 }),
    result('trpc-sse', 1_000, 'rate', { received: 40, p50Ms: null, p99Ms: null }),
  ];
  const figures = transportFigures(results, [1_000], [20_000, 2_000]);
  const byId = (id: string) => figures.find((f) => f.id === id);

  it('judges tRPC throughput against raw ws measured in the same run (≥ 80%)', () => {
    expect(byId('transport.max.trpc-ws.1000')).toMatchObject({ ratio: 0.8, met: true });
    expect(byId('transport.max.trpc-sse.1000')).toMatchObject({ ratio: 0.05, met: false });
    expect(byId('transport.max.trpc-sse.1000')?.note).toContain('deadline');
    expect(byId('transport.max.raw-ws.1000')?.target).toBeUndefined();
    // tRPC's stock SSE writer is shown beside the server's own, not judged.
    expect(byId('transport.max.trpc-sse-stock.1000')).toMatchObject({ ratio: 0.025, met: null });
  });

  it('judges p99 at the largest user count, and counts a p99 on missing events as the deadline, missed', () => {
    expect(byId('transport.p99.trpc-ws.1000.20000')).toMatchObject({ value: 3, met: true });
    const sse = byId('transport.p99.trpc-sse.1000.20000');
    expect(sse).toMatchObject({ value: 8_000, met: false });
    expect(sse?.note).toContain('40 of 100 events arrived within 8000 ms');
    // A second rate that was not measured adds no rows, and neither do latencies never measured for
    // tRPC's stock SSE writer (compared on throughput only).
    expect(figures.some((f) => f.id.endsWith('.2000'))).toBe(false);
    expect(figures.some((f) => f.id.startsWith('transport.p99.trpc-sse-stock'))).toBe(false);
  });

  it('judges issue 21 in the same run: p99 at the light rate within 4× raw ws, server CPU within 1.5× raw ws', () => {
    const light = transportFigures(
      [
        result('raw-ws', 1_000, 'max', { serverCpuUsPerEvent: 20 }),
        result('trpc-ws', 1_000, 'max', { serverCpuUsPerEvent: 29 }),
        result('trpc-sse', 1_000, 'max', { serverCpuUsPerEvent: 31 }),
        result('raw-ws', 1_000, 'rate', { offered: 2_000, p99Ms: 2 }),
        result('trpc-ws', 1_000, 'rate', { offered: 2_000, p99Ms: 8 }),
        result('trpc-sse', 1_000, 'rate', { offered: 2_000, p99Ms: 9 }),
      ],
      [1_000],
      [20_000, 2_000],
      ['raw-ws', 'trpc-ws', 'trpc-sse'],
    );
    const find = (id: string) => light.find((f) => f.id === id);
    expect(find('transport.p99.trpc-ws.1000.2000')).toMatchObject({ ratio: 4, met: true });
    expect(find('transport.p99.trpc-sse.1000.2000')).toMatchObject({ ratio: 4.5, met: false });
    expect(find('transport.serverCpu.trpc-ws.1000')).toMatchObject({ ratio: 1.45, met: true });
    expect(find('transport.serverCpu.trpc-sse.1000')).toMatchObject({ ratio: 1.55, met: false });
    expect(find('transport.serverCpu.raw-ws.1000')?.target).toBeUndefined();
  });

  it('reports a scenario that did not run as not measured, never as met', () => {
    const partial = transportFigures([result('raw-ws', 1, 'max')], [1], [20_000]);
    const trpc = partial.find((f) => f.id === 'transport.max.trpc-ws.1');
    expect(trpc).toMatchObject({ value: null, met: null, note: 'not measured' });
  });
});
