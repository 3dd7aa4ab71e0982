import type { Benchmark } from '../harness/benchmark.ts';
import { agentRunBenchmark } from './agentRun.ts';
import { clusterBenchmark } from './cluster.ts';
import { consoleBenchmark } from './console.ts';
import { dispatchBenchmark } from './dispatch.ts';
import { idleBenchmark } from './idle.ts';
import { mcpBenchmark } from './mcp.ts';
import { mcpThroughputBenchmark } from './mcpThroughput.ts';
import { memoryBenchmark } from './memory.ts';
import { persistenceBenchmark } from './persistence.ts';
import { postgresBenchmark } from './postgres.ts';
import { scopeBenchmark } from './scope.ts';
import { transportBenchmark } from './transport.ts';

/** Every benchmark, in the order `pnpm bench` runs them. */
export const ALL_BENCHMARKS: readonly Benchmark[] = [
  dispatchBenchmark,
  agentRunBenchmark,
  scopeBenchmark,
  memoryBenchmark,
  persistenceBenchmark,
  postgresBenchmark,
  clusterBenchmark,
  transportBenchmark,
  idleBenchmark,
  mcpThroughputBenchmark,
  consoleBenchmark,
  mcpBenchmark,
];
