import { EventEmitter } from 'node:events';
import { createDispatcherFactory, createInMemoryMetrics, createMemorySink, runAgent } from '@toolrun/dispatcher';
import { BENCH_LIMITS } from '../fixtures/benchLimits.ts';
import { createNoopTool, NOOP_INPUT, noopInput, noopRun } from '../fixtures/noopTool.ts';
import { ONE_CALL_AGENT_INPUT, oneCallAgent, oneCallAgentInput } from '../fixtures/oneCallAgent.ts';
import type { Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';
import { compare } from '../harness/measure.ts';
import { profileInProcess } from '../harness/profileInProcess.ts';
import { median } from '../harness/stats.ts';

const agentInput = oneCallAgentInput;
const AGENT_INPUT = ONE_CALL_AGENT_INPUT;

/**
 * (2) A whole run with one tool call through `runAgent` (agent_started, agent_thinking,
 * tool_executing, tool_completed, agent_completed), including its context, its scope and the
 * scope's disposal, against the same agent logic as plain function calls and against the floor
 * (two zod parses and five emits).
 */
export const agentRunBenchmark: Benchmark = {
  name: 'agentRun',
  title: 'a run with one tool call through runAgent (five events)',
  async run(ctx) {
    const sink = createMemorySink();
    const metrics = createInMemoryMetrics();
    const factory = createDispatcherFactory({
      tools: [createNoopTool()],
      agents: [oneCallAgent],
      sink,
      metrics,
      limits: BENCH_LIMITS,
    });
    const userId = 'bench_alice';
    const oneRun = async (): Promise<string> => {
      const scope = factory.forRequest(factory.createContext({ userId }));
      const last = await runAgent(scope, oneCallAgent, AGENT_INPUT);
      await scope[Symbol.asyncDispose]();
      return last.status;
    };
    {
      const status = await oneRun();
      const events = sink.events().map((e) => e.type);
      if (status !== 'completed' || events.length !== 5) {
        throw new Error(`the benchmark run is not a five-event run: ${status}, ${events.join(', ')}`);
      }
      sink.clear();
    }

    // The same work without a dispatcher.
    const plainTool = async (input: unknown) => noopRun(input as { text: string; n: number });
    const plainAgent = async (input: { question: string }) => {
      const output = await plainTool(NOOP_INPUT);
      return { ok: output.ok, q: input.question.length };
    };
    const emitter = new EventEmitter();
    let emitted = 0;
    emitter.on('event', () => {
      emitted += 1;
    });
    const floorRun = async (input: unknown) => {
      const parsed = agentInput.safeParse(input);
      if (!parsed.success) throw new Error('invalid');
      emitter.emit('event', { type: 'agent_started', input });
      emitter.emit('event', { type: 'agent_thinking', text: `looking up ${parsed.data.question}`, step: 1 });
      const toolInput = noopInput.safeParse(NOOP_INPUT);
      if (!toolInput.success) throw new Error('invalid');
      emitter.emit('event', { type: 'tool_executing', tool: 'noop', input: NOOP_INPUT });
      const output = await plainTool(toolInput.data);
      emitter.emit('event', { type: 'tool_completed', tool: 'noop', status: 'success', output });
      emitter.emit('event', { type: 'agent_completed', status: 'completed', result: { ok: output.ok } });
    };

    let notCompleted = 0;
    const samples = await compare({
      signal: ctx.signal,
      opsPerBatch: 200,
      warmupBatches: ctx.quick ? 5 : 20,
      warmupMs: ctx.quick ? 300 : 1_000,
      reps: ctx.quick ? 15 : 100,
      maxMs: ctx.quick ? 1_500 : 7_000,
      variants: [
        {
          name: 'toolrun',
          async batch(n) {
            for (let i = 0; i < n; i += 1) if ((await oneRun()) !== 'completed') notCompleted += 1;
            sink.clear();
          },
        },
        {
          name: 'plain',
          async batch(n) {
            for (let i = 0; i < n; i += 1) await plainAgent(AGENT_INPUT);
          },
        },
        {
          name: 'floor',
          async batch(n) {
            for (let i = 0; i < n; i += 1) await floorRun(AGENT_INPUT);
          },
        },
      ],
    });
    const us = (name: string) => median(samples.get(name) ?? []) / 1000;
    const toolrun = us('toolrun');
    const profile = ctx.profile
      ? await profileInProcess(ctx, 'agentRun', async () => {
          for (let i = 0; i < 20_000; i += 1) {
            await oneRun();
            if (i % 200 === 0) sink.clear();
          }
          sink.clear();
        })
      : undefined;
    return {
      figures: [
        figure({
          id: 'agentRun.perRun',
          label: 'run with one tool call via runAgent (context, scope, 5 events, dispose)',
          value: toolrun,
          unit: 'µs',
          baseline: { label: 'zod parses + 5 emits', value: us('floor'), unit: 'µs' },
          target: { op: '<=', threshold: 20, text: '≤ 20 µs per run' },
        }),
        figure({
          id: 'agentRun.vsPlain',
          label: 'same, against the agent as plain async calls',
          value: toolrun,
          unit: 'µs',
          baseline: { label: 'plain async calls', value: us('plain'), unit: 'µs' },
        }),
      ],
      details: {
        ...(profile === undefined ? {} : { profile }),
        runsPerBatch: 200,
        samples: Object.fromEntries([...samples].map(([k, v]) => [k, v.length])),
        runsNotCompleted: notCompleted,
        floorEvents: emitted,
        runsByStatus: metrics.snapshot().runsByStatus,
      },
    };
  },
};
