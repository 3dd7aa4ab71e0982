import type { UserExecutionContext } from '@toolrun/dispatcher';
import { createDispatcherFactory, createInMemoryMetrics, createMemorySink } from '@toolrun/dispatcher';
import { BENCH_LIMITS } from '../fixtures/benchLimits.ts';
import { createNoopTool } from '../fixtures/noopTool.ts';
import type { Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';
import { compare } from '../harness/measure.ts';
import { profileInProcess } from '../harness/profileInProcess.ts';
import { median, spread } from '../harness/stats.ts';

const BATCH = 1_000;

/**
 * (3) `factory.forRequest(context)` and `await scope[Symbol.asyncDispose]()`, with 1 and with
 * 1,000 registered tools. Contexts are minted before each timed batch (their cost is reported
 * on its own), so the figure is the scope's own life: claim, construct, watch, release.
 */
export const scopeBenchmark: Benchmark = {
  name: 'scope',
  title: 'scope creation and disposal, 1 vs 1,000 registered tools',
  async run(ctx) {
    const make = (tools: number) =>
      createDispatcherFactory({
        tools: Array.from({ length: tools }, (_, i) => createNoopTool(i === 0 ? 'noop' : `noop_${i}`)),
        sink: createMemorySink(),
        metrics: createInMemoryMetrics(),
        limits: BENCH_LIMITS,
      });
    const one = make(1);
    const thousand = make(1_000);
    if (thousand.tools.list().length !== 1_000) throw new Error('the 1,000-tool registry is not 1,000 tools');
    const userId = 'bench_alice';
    const mint = (factory: typeof one, n: number): UserExecutionContext[] =>
      Array.from({ length: n }, () => factory.createContext({ userId }));
    let oneContexts: UserExecutionContext[] = [];
    let thousandContexts: UserExecutionContext[] = [];
    let floorObjects = 0;

    const samples = await compare({
      signal: ctx.signal,
      opsPerBatch: BATCH,
      warmupBatches: ctx.quick ? 5 : 20,
      warmupMs: ctx.quick ? 300 : 1_000,
      reps: ctx.quick ? 20 : 150,
      maxMs: ctx.quick ? 1_500 : 7_000,
      variants: [
        {
          name: 'tools1',
          prepare: (n) => {
            oneContexts = mint(one, n);
          },
          async batch() {
            for (const context of oneContexts) await one.forRequest(context)[Symbol.asyncDispose]();
          },
        },
        {
          name: 'tools1000',
          prepare: (n) => {
            thousandContexts = mint(thousand, n);
          },
          async batch() {
            for (const context of thousandContexts) await thousand.forRequest(context)[Symbol.asyncDispose]();
          },
        },
        {
          // The least an asynchronously disposed object costs: allocate it, await its disposal.
          name: 'floor',
          async batch(n) {
            for (let i = 0; i < n; i += 1) {
              const o = { id: i, disposed: false, async [Symbol.asyncDispose]() {} };
              await o[Symbol.asyncDispose]();
              floorObjects += o.id === i ? 1 : 0;
            }
          },
        },
        {
          name: 'context',
          async batch(n) {
            for (let i = 0; i < n; i += 1) one.createContext({ userId });
          },
        },
      ],
    });
    const us = (name: string) => median(samples.get(name) ?? []) / 1000;
    const t1 = us('tools1');
    const t1000 = us('tools1000');
    const sameness = spread([t1, t1000]);
    if (one.liveScopes() !== 0 || thousand.liveScopes() !== 0) {
      throw new Error(`scopes left live: ${one.liveScopes()} and ${thousand.liveScopes()}`);
    }
    const profile = ctx.profile
      ? await (async () => {
          // Minted before the profiler starts: the profile is the scopes' alone.
          const contexts = mint(thousand, 50_000);
          return profileInProcess(ctx, 'scope', async () => {
            for (const context of contexts) await thousand.forRequest(context)[Symbol.asyncDispose]();
          });
        })()
      : undefined;
    return {
      figures: [
        figure({
          id: 'scope.createDispose',
          label: 'forRequest + asyncDispose, 1 tool registered',
          value: t1,
          unit: 'µs',
          baseline: { label: 'object + awaited no-op dispose', value: us('floor'), unit: 'µs' },
          target: { op: '<=', threshold: 1, text: '≤ 1 µs' },
        }),
        figure({
          id: 'scope.createDispose1000',
          label: 'forRequest + asyncDispose, 1,000 tools registered',
          value: t1000,
          unit: 'µs',
          baseline: { label: '1 tool', value: t1, unit: 'µs' },
          target: { op: '<=', threshold: 1, text: '≤ 1 µs' },
        }),
        figure({
          id: 'scope.toolCountSpread',
          label: 'difference 1 vs 1,000 tools (max/min − 1)',
          value: sameness === null ? null : sameness * 100,
          unit: '%',
          target: { op: '<=', threshold: 10, text: 'within 10%' },
        }),
        figure({
          id: 'scope.createContext',
          label: 'factory.createContext (per request, not part of the above)',
          value: us('context'),
          unit: 'µs',
        }),
      ],
      details: {
        ...(profile === undefined ? {} : { profile }),
        scopesPerBatch: BATCH,
        samples: Object.fromEntries([...samples].map(([k, v]) => [k, v.length])),
        floorObjects,
      },
    };
  },
};
