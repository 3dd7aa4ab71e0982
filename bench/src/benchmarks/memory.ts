import type { DispatcherFactory } from '@toolrun/dispatcher';
import { createDispatcherFactory, createInMemoryMetrics, defineAgent, defineTool } from '@toolrun/dispatcher';
import { z } from 'zod';
import { BENCH_LIMITS } from '../fixtures/benchLimits.ts';
import { createCountingSink } from '../fixtures/countingSink.ts';
import { createNoopTool, NOOP_INPUT, noopInput, noopRun } from '../fixtures/noopTool.ts';
import type { Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';
import { settledHeap } from '../harness/measure.ts';
import { heapBreakdown } from '../harness/profileInProcess.ts';
import type { Figure } from '../harness/types.ts';

const USERS = 1_000;

/** A promise that resolves when `open()` is called: where parked tools wait. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

async function until(condition: () => boolean, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end || signal.aborted) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/**
 * (4) Memory. Heap per live run: `runs` agent runs started with `factory.startRun` (spread over
 * 1,000 users), each parked inside a tool call that awaits a gate, measured after a full GC, against
 * the same number of parked plain `await tool(input)` calls and of parked floor calls (zod parse +
 * two emits). Then the heap after 100,000 scope create/dispose cycles (each with one tool call).
 * Events go to a sink that counts and keeps nothing, so the figures are the dispatcher's own.
 */
export const memoryBenchmark: Benchmark = {
  name: 'memory',
  title: 'heap per parked run; heap growth over create/dispose cycles',
  async run(ctx) {
    const runs = ctx.quick ? 2_000 : 10_000;
    const cycles = ctx.quick ? 20_000 : 100_000;
    const figures: Figure[] = [];
    if ((await settledHeap()) === null) {
      return {
        figures: [
          figure({
            id: 'memory.perRun',
            label: 'heap per parked run',
            value: null,
            unit: 'B',
            note: 'needs --expose-gc',
          }),
        ],
      };
    }

    // Baselines first, while the heap is small: N parked plain calls, then N parked floor calls.
    const plainGate = gate();
    const plainTool = async (input: unknown) => {
      await plainGate.promise;
      return noopRun(input as { text: string; n: number });
    };
    const plainBefore = (await settledHeap()) ?? 0;
    const plainCalls: Promise<unknown>[] = [];
    for (let i = 0; i < runs; i += 1) plainCalls.push(plainTool({ ...NOOP_INPUT, n: i }));
    const plainAfter = (await settledHeap()) ?? 0;
    plainGate.open();
    await Promise.all(plainCalls);
    plainCalls.length = 0;

    const floorGate = gate();
    let floorEvents = 0;
    const emit = (_event: object) => {
      floorEvents += 1;
    };
    const floorCall = async (input: unknown) => {
      const parsed = noopInput.safeParse(input);
      if (!parsed.success) throw new Error('invalid');
      const executing = { type: 'tool_executing', tool: 'noop', input: parsed.data };
      emit(executing);
      await floorGate.promise;
      const completed = { type: 'tool_completed', tool: 'noop', status: 'success', output: noopRun(parsed.data) };
      emit(completed);
      return [executing, completed].length;
    };
    const floorBefore = (await settledHeap()) ?? 0;
    const floorCalls: Promise<unknown>[] = [];
    for (let i = 0; i < runs; i += 1) floorCalls.push(floorCall({ ...NOOP_INPUT, n: i }));
    const floorAfter = (await settledHeap()) ?? 0;
    floorGate.open();
    await Promise.all(floorCalls);
    floorCalls.length = 0;

    // Toolrun: agent runs parked inside a tool.
    let parked = 0;
    let toolGate = gate();
    const park = defineTool({
      name: 'park',
      description: 'Waits until the benchmark lets it go',
      input: noopInput,
      access: 'user',
      timeoutMs: 600_000,
      async run(input) {
        parked += 1;
        await toolGate.promise;
        return noopRun(input);
      },
    });
    const parker = defineAgent({
      name: 'parker',
      description: 'Calls the parking tool once',
      input: z.object({ n: z.number() }),
      async run(input, agentCtx) {
        const result = await agentCtx.callTool('park', { ...NOOP_INPUT, n: input.n });
        return { ok: result.status === 'success' };
      },
    });
    const sink = createCountingSink();
    const factory = createDispatcherFactory({
      tools: [park, createNoopTool()],
      agents: [parker],
      sink,
      metrics: createInMemoryMetrics(),
      limits: BENCH_LIMITS,
    });
    const startRuns = (n: number, f: DispatcherFactory) => {
      for (let i = 0; i < n; i += 1) {
        const context = f.createContext({ userId: `bench_user_${i % USERS}` });
        f.startRun({ context, agent: 'parker', input: { n: i } });
      }
    };
    // Warm-up: the same path once through, so the heap holds no first-time allocations.
    startRuns(200, factory);
    await until(() => parked === 200, 30_000, ctx.signal);
    toolGate.open();
    await until(() => sink.counts.agent_completed === 200, 30_000, ctx.signal);
    toolGate = gate();
    parked = 0;

    const runsBefore = (await settledHeap()) ?? 0;
    startRuns(runs, factory);
    const allParked = await until(() => parked === runs, 60_000, ctx.signal);
    const runsAfter = (await settledHeap()) ?? 0;
    const active = factory.activeRuns().length;
    toolGate.open();
    const allDone = await until(() => sink.counts.agent_completed === 200 + runs, 60_000, ctx.signal);
    if (!allParked || !allDone) throw new Error(`runs did not park or finish: ${parked} parked, ${active} active`);

    // With --profile: what one parked run holds, by constructor, from two heap snapshots.
    let breakdown: Awaited<ReturnType<typeof heapBreakdown>> | undefined;
    if (ctx.profile) {
      const sample = 2_000;
      toolGate = gate();
      parked = 0;
      const completedBefore = sink.counts.agent_completed;
      await settledHeap();
      breakdown = await heapBreakdown(ctx, 'memory-parked-runs', sample, async () => {
        startRuns(sample, factory);
        await until(() => parked === sample, 60_000, ctx.signal);
        await settledHeap();
      });
      toolGate.open();
      await until(() => sink.counts.agent_completed === completedBefore + sample, 60_000, ctx.signal);
    }

    const perRun = (runsAfter - runsBefore) / runs;
    const plainPer = (plainAfter - plainBefore) / runs;
    const floorPer = (floorAfter - floorBefore) / runs;
    figures.push(
      figure({
        id: 'memory.perRun',
        label: `heap per live run, ${runs.toLocaleString('en-US')} runs parked in a tool (after GC)`,
        value: perRun / 1024,
        unit: 'KB',
        baseline: { label: 'parked zod parse + 2 emits', value: floorPer / 1024, unit: 'KB' },
        target: { op: '<=', threshold: 2, text: '≤ 2 KB per run' },
      }),
      figure({
        id: 'memory.perRunVsPlain',
        label: 'same, against a parked plain await tool(input)',
        value: perRun / 1024,
        unit: 'KB',
        baseline: { label: 'parked await tool(input)', value: plainPer / 1024, unit: 'KB' },
      }),
    );

    // Create/dispose cycles: heap before and after, both after a full GC.
    const cycleFactory = createDispatcherFactory({
      tools: [createNoopTool()],
      sink: createCountingSink(),
      metrics: createInMemoryMetrics(),
      limits: BENCH_LIMITS,
    });
    const cycle = async (n: number) => {
      for (let i = 0; i < n && !ctx.signal.aborted; i += 1) {
        const scope = cycleFactory.forRequest(cycleFactory.createContext({ userId: `bench_user_${i % USERS}` }));
        await scope.execute('noop', NOOP_INPUT);
        await scope[Symbol.asyncDispose]();
      }
    };
    // Warm-up past every bounded buffer (the metrics keep the latest 2,048 durations per tool).
    await cycle(10_000);
    const cyclesBefore = (await settledHeap()) ?? 0;
    await cycle(cycles);
    const cyclesAfter = (await settledHeap()) ?? 0;
    const growth = cyclesAfter - cyclesBefore;
    figures.push(
      figure({
        id: 'memory.cycleGrowth',
        label: `heap growth after ${cycles.toLocaleString('en-US')} create/execute/dispose cycles (after GC)`,
        value: growth / 1024,
        unit: 'KB',
        // "No growth", allowing for what a full GC leaves behind by chance: under 1 byte per cycle.
        target: {
          op: '<=',
          threshold: cycles / 1024,
          text: `no growth (< 1 B/cycle = ${Math.round(cycles / 1024)} KB)`,
        },
      }),
    );
    return {
      figures,
      details: {
        ...(breakdown === undefined ? {} : { perRunByConstructor: breakdown }),
        runs,
        cycles,
        users: USERS,
        heapBytes: {
          plain: [plainBefore, plainAfter],
          floor: [floorBefore, floorAfter],
          runs: [runsBefore, runsAfter],
          cycles: [cyclesBefore, cyclesAfter],
        },
        liveScopesAfterCycles: cycleFactory.liveScopes(),
        floorEvents,
      },
    };
  },
};
