import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AppRouter } from '@toolrun/api';
import { startServer } from '@toolrun/server';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import { BENCH_LIMITS } from '../fixtures/benchLimits.ts';
import { createNoopTool, NOOP_INPUT } from '../fixtures/noopTool.ts';
import { ONE_CALL_AGENT_INPUT, oneCallAgent } from '../fixtures/oneCallAgent.ts';
import type { Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';
import { median } from '../harness/stats.ts';

/** One client's way of starting one run; resolves when the server has taken it. */
type StartOne = (worker: number) => Promise<unknown>;

/**
 * (issue 13) Throughput of `/mcp` `tools/call` against the tRPC path, for the same runs: the
 * one-call agent (five events) as `tools/call agent__one_call` against `runs.start`, and the no-op
 * tool as a one-call run (`tools/call noop`) against `tools.run`. A real server on loopback (SQLite
 * file, writer thread, every guard on) and, in the same process, `WORKERS` clients per path, each
 * its own user with its own MCP session or tRPC client (`httpLink`, no batching). A figure is
 * completed runs per second: from the first request until the last run's `agent_completed` is
 * committed (counted from the event hub), so a path that answers before its run ends gets no credit
 * for it. Variants alternate in short rounds (a different order each round), so that a shared
 * machine's load drifts over all of them alike; each figure is the median of its rounds.
 */
export const mcpThroughputBenchmark: Benchmark = {
  name: 'mcpThroughput',
  title: '/mcp tools/call vs tRPC runs.start and tools.run: completed runs per second',
  async run(ctx) {
    const workers = 16;
    const runsPerRound = ctx.quick ? 80 : 200;
    const rounds = ctx.quick ? 3 : 8;
    const dir = mkdtempSync(join(tmpdir(), 'toolrun-bench-mcp-'));
    const server = await startServer({
      database: join(dir, 'toolrun.db'),
      auth: { mode: 'dev', secret: 'bench-secret-0123456789abcdef0123456789' },
      consoleDir: join(dir, 'no-console'),
      limits: BENCH_LIMITS,
      extraTools: [createNoopTool()],
      extraAgents: [oneCallAgent],
      mcpServer: { maxSessionsPerUser: 4 },
    });
    const mcpClients: Client[] = [];
    try {
      // Every committed agent_completed, whoever ran it: the finish line of every variant.
      let completed = 0;
      const watcher = server.services.hub.subscribe({
        principal: { userId: 'bench_admin', roles: ['admin'] },
        scope: 'all',
      });
      void (async () => {
        for await (const batch of watcher) {
          for (const event of batch) if (event.type === 'agent_completed') completed += 1;
        }
      })();

      const trpc: TRPCClient<AppRouter>[] = [];
      for (let w = 0; w < workers; w += 1) {
        const { token } = await server.services.auth.issue({ userId: `bench_user_${w}`, roles: ['user'] });
        const headers = { authorization: `Bearer ${token}` };
        trpc.push(createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc`, headers })] }));
        const client = new Client({ name: 'toolrun-bench', version: '1.0.0' });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers } }),
        );
        mcpClients.push(client);
      }
      const mcpCall =
        (name: string, args: Record<string, unknown>): StartOne =>
        async (w) => {
          const result = await mcpClients[w]?.callTool({ name, arguments: args });
          if (result?.isError === true) throw new Error(`tools/call ${name} failed: ${JSON.stringify(result.content)}`);
        };
      const variants: Record<string, StartOne> = {
        mcpAgent: mcpCall('agent__one_call', ONE_CALL_AGENT_INPUT),
        trpcRunsStart: (w) =>
          trpc[w]?.runs.start.mutate({ agent: 'one_call', input: ONE_CALL_AGENT_INPUT }) ?? Promise.resolve(),
        mcpTool: mcpCall('noop', NOOP_INPUT),
        trpcToolsRun: (w) => trpc[w]?.tools.run.mutate({ tool: 'noop', input: NOOP_INPUT }) ?? Promise.resolve(),
      };

      const round = async (start: StartOne, n: number): Promise<number> => {
        const target = completed + n;
        const began = performance.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: workers }, async (_, w) => {
            while (next < n && !ctx.signal.aborted) {
              next += 1;
              await start(w);
            }
          }),
        );
        const giveUpAt = began + 300_000;
        while (completed < target && !ctx.signal.aborted) {
          if (performance.now() > giveUpAt) throw new Error(`${target - completed} runs never completed`);
          await new Promise((r) => setTimeout(r, 1));
        }
        return n / ((performance.now() - began) / 1000);
      };

      const names = Object.keys(variants);
      // Warm-up: every path once at a small load (JIT, SQLite pages, sessions).
      for (const name of names) await round(variants[name] as StartOne, workers * 4);
      const samples = new Map<string, number[]>(names.map((n) => [n, []]));
      for (let r = 0; r < rounds && !ctx.signal.aborted; r += 1) {
        // A different order each round, so no path always runs on a warmer (or more fragmented) database.
        const order = names.map((_, i) => names[(i + r) % names.length] as string);
        for (const name of order) samples.get(name)?.push(await round(variants[name] as StartOne, runsPerRound));
        ctx.log(`  round ${r + 1}/${rounds}`);
      }
      watcher.close();
      const perSecond = (name: string) => median(samples.get(name) ?? []);
      return {
        figures: [
          figure({
            id: 'mcpThroughput.agentRun',
            label: `/mcp tools/call agent__one_call (five-event run), ${workers} clients`,
            value: perSecond('mcpAgent'),
            unit: 'runs/s',
            baseline: { label: 'tRPC runs.start, same agent', value: perSecond('trpcRunsStart'), unit: 'runs/s' },
          }),
          figure({
            id: 'mcpThroughput.toolRun',
            label: `/mcp tools/call noop (one-call run), ${workers} clients`,
            value: perSecond('mcpTool'),
            unit: 'runs/s',
            baseline: { label: 'tRPC tools.run, same tool', value: perSecond('trpcToolsRun'), unit: 'runs/s' },
          }),
        ],
        details: {
          workers,
          runsPerRound,
          rounds,
          samples: Object.fromEntries(samples),
          note: 'clients and server share one process (and its 2 cores): both paths pay for their clients alike',
        },
      };
    } finally {
      for (const client of mcpClients) await client.close().catch(() => undefined);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
