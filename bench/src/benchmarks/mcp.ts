import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createDispatcherFactory, createInMemoryMetrics, createMemorySink } from '@toolrun/dispatcher';
import { parseMcpConfig, startMcpToolSources } from '@toolrun/mcp';
import { BENCH_LIMITS } from '../fixtures/benchLimits.ts';
import type { Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';
import { nowNs } from '../harness/measure.ts';
import { median } from '../harness/stats.ts';

const SERVER = fileURLToPath(new URL('../servers/mcpEchoServer.ts', import.meta.url));
const CALLS_PER_BATCH = 50;
const INPUT = { text: 'hello from the bench', n: 7 };

/**
 * (mcp) What Toolrun adds to one MCP tool call: `scope.execute('bench__echo', …)` through a shared
 * stdio source (ajv input validation, every dispatcher guard, the two events into an in-memory sink)
 * against the same `tools/call` made with the bare SDK `Client`, each to its own process of the same
 * echo server, interleaved in the same run.
 */
export const mcpBenchmark: Benchmark = {
  name: 'mcp',
  title: 'overhead of an MCP tool call through Toolrun over the bare SDK client',
  async run(ctx) {
    const server = { command: process.execPath, args: ['--import', 'tsx', SERVER] };
    const bare = new Client({ name: 'bench', version: '1.0.0' });
    await bare.connect(new StdioClientTransport({ ...server, cwd: ctx.benchRoot, stderr: 'pipe' }));
    const config = parseMcpConfig(
      JSON.stringify({ sources: { bench: { ...server, cwd: ctx.benchRoot, pingIntervalMs: 0 } } }),
      { env: {}, dataDir: ctx.benchRoot, baseDir: ctx.benchRoot },
    );
    const sources = await startMcpToolSources(config);
    const sink = createMemorySink();
    const metrics = createInMemoryMetrics();
    const factory = createDispatcherFactory({ tools: sources.tools(), sink, metrics, limits: BENCH_LIMITS });
    const userId = 'bench_alice';
    const echo = sources.tools()[0];
    if (echo === undefined) throw new Error('the bench source listed no tool');
    try {
      {
        await using scope = factory.forRequest(factory.createContext({ userId }));
        const result = await scope.execute('bench__echo', INPUT);
        if (result.status !== 'success') throw new Error(`the MCP call did not succeed: ${JSON.stringify(result)}`);
        sink.clear();
      }
      const variants = {
        toolrun: async (n: number) => {
          const scope = factory.forRequest(factory.createContext({ userId }));
          for (let i = 0; i < n; i += 1) await scope.execute('bench__echo', INPUT);
          await scope[Symbol.asyncDispose]();
          sink.clear();
        },
        // The source's tool run directly: the adapter (ajv, the SDK call with a signal), no dispatcher.
        adapter: async (n: number) => {
          const context = factory.createContext({ userId });
          for (let i = 0; i < n; i += 1) {
            const signal = new AbortController().signal;
            await echo.run(INPUT, { context, callId: 'bench', signal, idempotencyKey: 'bench', heartbeat: () => {} });
          }
        },
        bare: async (n: number) => {
          for (let i = 0; i < n; i += 1) await bare.callTool({ name: 'echo', arguments: INPUT });
        },
      };
      const samples = await timeWithCpu(variants, {
        warmups: ctx.quick ? 3 : 10,
        reps: ctx.quick ? 10 : 60,
        maxMs: ctx.quick ? 3_000 : 20_000,
        signal: ctx.signal,
      });
      const failed = metrics
        .snapshot()
        .executions.filter((e) => e.status !== 'success')
        .reduce((sum, e) => sum + e.count, 0);
      if (failed > 0) throw new Error(`${failed} MCP calls through Toolrun did not succeed`);
      const wall = { toolrun: median(samples.toolrun.wall), bare: median(samples.bare.wall) };
      const cpu = {
        toolrun: median(samples.toolrun.cpu),
        adapter: median(samples.adapter.cpu),
        bare: median(samples.bare.cpu),
      };
      // Paired per round: a slow spell of the machine slows both batches of a round alike.
      const wallOverhead = median(samples.toolrun.wall.map((t, i) => t - (samples.bare.wall[i] ?? t)));
      const allowed = Math.max(0.05 * wall.bare, 50);
      return {
        figures: [
          figure({
            id: 'mcp.overheadPerCall',
            label: 'Toolrun over the bare SDK client, per MCP tool call (stdio, wall time)',
            value: wallOverhead,
            unit: 'µs',
            target: {
              op: '<=',
              threshold: allowed,
              text: `≤ 5% of the bare call or ≤ 50 µs (${allowed.toFixed(1)} µs here)`,
            },
            note: 'median of the per-round differences between interleaved batches',
          }),
          figure({
            id: 'mcp.cpuOverheadPerCall',
            label: "Toolrun's added CPU per MCP tool call (the calling process)",
            value: cpu.toolrun - cpu.bare,
            unit: 'µs',
          }),
          figure({
            id: 'mcp.cpuPerCall',
            label: 'CPU of the calling process per MCP call, through Toolrun',
            value: cpu.toolrun,
            unit: 'µs',
            baseline: { label: 'bare SDK client.callTool', value: cpu.bare, unit: 'µs' },
          }),
          figure({
            id: 'mcp.cpuPerCallAdapter',
            label: "CPU per MCP call through the source's tool alone (no dispatcher)",
            value: cpu.adapter,
            unit: 'µs',
            baseline: { label: 'bare SDK client.callTool', value: cpu.bare, unit: 'µs' },
          }),
          figure({
            id: 'mcp.wallPerCall',
            label: 'wall time per MCP call through Toolrun (scope.execute)',
            value: wall.toolrun,
            unit: 'µs',
            baseline: { label: 'bare SDK client.callTool', value: wall.bare, unit: 'µs' },
          }),
        ],
        details: { samples: samples.toolrun.wall.length, callsPerBatch: CALLS_PER_BATCH },
      };
    } finally {
      await bare.close();
      await sources.close();
    }
  },
};

interface Samples {
  wall: number[];
  cpu: number[];
}

/**
 * Times each variant in interleaved batches (A B, B A, …), recording per call both the wall time and
 * the CPU time of this process (user + system): on a loaded machine the round trip's wall time
 * swings by milliseconds, while the CPU a call costs its caller stays put.
 */
async function timeWithCpu<K extends string>(
  variants: Record<K, (n: number) => Promise<void>>,
  opts: { warmups: number; reps: number; maxMs: number; signal: AbortSignal },
): Promise<Record<K, Samples>> {
  const names = Object.keys(variants) as K[];
  const out = Object.fromEntries(names.map((name) => [name, { wall: [], cpu: [] }])) as unknown as Record<K, Samples>;
  for (const name of names) for (let i = 0; i < opts.warmups; i += 1) await variants[name](CALLS_PER_BATCH);
  const started = Date.now();
  for (let rep = 0; rep < opts.reps && !opts.signal.aborted; rep += 1) {
    if (rep >= 3 && Date.now() - started > opts.maxMs) break;
    // Rotated (A B C, B C A, C A B): no variant always runs right after another.
    const order = names.map((_, k) => names[(rep + k) % names.length] as K);
    for (const name of order) {
      const cpu0 = process.cpuUsage();
      const t0 = nowNs();
      await variants[name](CALLS_PER_BATCH);
      const wall = (nowNs() - t0) / 1000 / CALLS_PER_BATCH;
      const cpu = process.cpuUsage(cpu0);
      out[name].wall.push(wall);
      out[name].cpu.push((cpu.user + cpu.system) / CALLS_PER_BATCH);
    }
  }
  return out;
}
