import { createDispatcherFactory, createInMemoryMetrics, createMemorySink } from '@toolrun/dispatcher';
import { BENCH_LIMITS } from '../fixtures/benchLimits.ts';
import { createFloor } from '../fixtures/floor.ts';
import { createNoopTool, NOOP_INPUT, noopInput, noopRun } from '../fixtures/noopTool.ts';
import type { Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';
import { compare, nowNs } from '../harness/measure.ts';
import { profileInProcess } from '../harness/profileInProcess.ts';
import { median, spread } from '../harness/stats.ts';
import type { Figure } from '../harness/types.ts';

const CALLS_PER_RUN = 1_000;
/** Windows of ten consecutive calls, at these positions in a run of 1,000 (the first call opens the run). */
const WINDOWS = [1, 100, 500, 991] as const;
const WINDOW = 10;

/**
 * (1) Dispatch overhead: a no-op tool through a scope with every guard on (validation, access,
 * input size, rate limit, parallel-call limit, circuit breaker, redaction, state machine, in-memory
 * metrics, an in-memory sink), per call, against `await tool(input)` and against zod parse + two
 * emits; then the cost of a call at several positions in a run of 1,000 calls (flatness).
 */
export const dispatchBenchmark: Benchmark = {
  name: 'dispatch',
  title: 'dispatch overhead of a no-op tool call',
  async run(ctx) {
    const tool = createNoopTool();
    const sink = createMemorySink();
    const metrics = createInMemoryMetrics();
    const factory = createDispatcherFactory({ tools: [tool], sink, metrics, limits: BENCH_LIMITS });
    const userId = 'bench_alice';
    const context = factory.createContext({ userId });
    const toolCtx = {
      context,
      signal: new AbortController().signal,
      callId: 'c',
      idempotencyKey: `${context.runId}:c`,
      heartbeat: () => {},
    };
    const floor = createFloor(noopInput, noopRun);

    // A call that is refused is cheaper than one that runs: make sure every call succeeds.
    {
      const scope = factory.forRequest(factory.createContext({ userId }));
      const result = await scope.execute('noop', NOOP_INPUT);
      await scope[Symbol.asyncDispose]();
      if (result.status !== 'success') throw new Error(`the no-op call did not succeed: ${JSON.stringify(result)}`);
      sink.clear();
    }

    const samples = await compare({
      signal: ctx.signal,
      opsPerBatch: CALLS_PER_RUN,
      warmupBatches: ctx.quick ? 3 : 10,
      warmupMs: ctx.quick ? 300 : 1_000,
      reps: ctx.quick ? 10 : 80,
      maxMs: ctx.quick ? 1_500 : 8_000,
      variants: [
        {
          name: 'toolrun',
          async batch(n) {
            // One scope (one run) per batch: creation and disposal amortised over its calls.
            const scope = factory.forRequest(factory.createContext({ userId }));
            for (let i = 0; i < n; i += 1) await scope.execute('noop', NOOP_INPUT);
            await scope[Symbol.asyncDispose]();
            sink.clear();
          },
        },
        {
          name: 'plain',
          async batch(n) {
            for (let i = 0; i < n; i += 1) await tool.run(NOOP_INPUT, toolCtx);
          },
        },
        {
          name: 'floor',
          async batch(n) {
            for (let i = 0; i < n; i += 1) await floor.call(NOOP_INPUT);
          },
        },
      ],
    });
    const us = (name: string) => median(samples.get(name) ?? []) / 1000;
    const toolrun = us('toolrun');
    const plain = us('plain');
    const floorUs = us('floor');

    // Flatness: the cost of ten consecutive calls at several positions in one run.
    const windows = new Map<number, number[]>(WINDOWS.map((w) => [w, []]));
    const firstCall: number[] = [];
    const runs = ctx.quick ? 20 : 150;
    const until = Date.now() + (ctx.quick ? 1_500 : 8_000);
    let measuredRuns = 0;
    for (let r = 0; r < runs + 5 && (r < 8 || Date.now() < until) && !ctx.signal.aborted; r += 1) {
      const scope = factory.forRequest(factory.createContext({ userId }));
      const t0 = nowNs();
      await scope.execute('noop', NOOP_INPUT);
      const opened = nowNs() - t0;
      let windowStart = 0;
      for (let call = 1; call <= CALLS_PER_RUN; call += 1) {
        if (windows.has(call)) windowStart = nowNs();
        await scope.execute('noop', NOOP_INPUT);
        const startedAt = call - WINDOW + 1;
        if (windows.has(startedAt) && r >= 5) windows.get(startedAt)?.push((nowNs() - windowStart) / WINDOW / 1000);
      }
      await scope[Symbol.asyncDispose]();
      sink.clear();
      // The first five runs warm the JIT up.
      if (r >= 5) {
        firstCall.push(opened / 1000);
        measuredRuns += 1;
      }
    }
    const windowMedians = WINDOWS.map((w) => median(windows.get(w) ?? []));
    const flat = spread(windowMedians);

    const snapshot = metrics.snapshot();
    const failed = snapshot.executions.filter((e) => e.status !== 'success').reduce((a, e) => a + e.count, 0);
    const plainBaseline = { label: 'plain await tool(input)', value: plain, unit: 'µs' as const };
    const figures: Figure[] = [
      figure({
        id: 'dispatch.perCall',
        label: 'no-op call through a scope, every guard on',
        value: toolrun,
        unit: 'µs',
        baseline: plainBaseline,
        target: { op: '<=', threshold: 2, text: '≤ 2 µs per call' },
      }),
      figure({
        id: 'dispatch.perCallVsFloor',
        label: 'same, against zod parse + two emits',
        value: toolrun,
        unit: 'µs',
        baseline: { label: 'zod parse + 2 emits', value: floorUs, unit: 'µs' },
      }),
      figure({ id: 'dispatch.floor', label: 'zod parse + two emits + await tool', value: floorUs, unit: 'µs' }),
      figure({ id: 'dispatch.plain', label: 'plain await tool(input)', value: plain, unit: 'µs' }),
      ...WINDOWS.map((w, i) =>
        figure({
          id: `dispatch.callsFrom${w}`,
          label: `per call, calls ${w}–${w + WINDOW - 1} of a 1,000-call run`,
          value: windowMedians[i] ?? null,
          unit: 'µs',
        }),
      ),
      figure({
        id: 'dispatch.flatness',
        label: 'spread of per-call cost from call 1 to call 1,000 (max/min − 1)',
        value: flat === null ? null : flat * 100,
        unit: '%',
        target: { op: '<=', threshold: 10, text: 'flat within 10%' },
      }),
      figure({
        id: 'dispatch.firstCall',
        label: 'first call of a scope (opens its direct run: agent_started)',
        value: median(firstCall),
        unit: 'µs',
      }),
    ];
    const profile = ctx.profile
      ? await profileInProcess(ctx, 'dispatch', async () => {
          for (let r = 0; r < 100; r += 1) {
            const scope = factory.forRequest(factory.createContext({ userId }));
            for (let i = 0; i < CALLS_PER_RUN; i += 1) await scope.execute('noop', NOOP_INPUT);
            await scope[Symbol.asyncDispose]();
            sink.clear();
          }
        })
      : undefined;
    return {
      figures,
      details: {
        ...(profile === undefined ? {} : { profile }),
        callsPerBatch: CALLS_PER_RUN,
        samples: Object.fromEntries([...samples].map(([k, v]) => [k, v.length])),
        flatnessRuns: measuredRuns,
        nonSuccessCalls: failed,
        floorEvents: floor.emitted(),
      },
    };
  },
};
