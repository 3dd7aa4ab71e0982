import { RUN_EVENT_TYPES, RUN_STATUSES, type RunEventType, type RunStatus, type ToolCallStatus } from './events.ts';
import type { DispatcherMetrics } from './ports.ts';

/** Upper bounds of the duration histogram's buckets, in milliseconds; a last `+Inf` bucket follows. */
export const DURATION_BUCKETS_MS = [0.1, 0.5, 1, 5, 10, 50, 100, 500, 1_000, 5_000, 30_000] as const;

// Percentiles come from the latest durations of each tool, not all of them: memory stays bounded.
const SAMPLES_PER_TOOL = 2_048;

/** Figures for the console and `/metrics`, as plain JSON. */
export interface MetricsSnapshot {
  at: string;
  liveScopes: number;
  peakScopes: number;
  activeRuns: number;
  executions: { tool: string; status: ToolCallStatus; count: number }[];
  /** Percentiles over each tool's latest 2,048 calls; `count` is over all of them. */
  toolLatency: { tool: string; count: number; p50: number; p95: number; p99: number; max: number }[];
  /** Per-bucket counts (not cumulative), `counts.length === bucketsMs.length + 1` (the last is +Inf). */
  durationHistogram: { bucketsMs: number[]; counts: number[]; sumMs: number; count: number };
  eventsByType: Record<RunEventType, number>;
  runsByStatus: Record<RunStatus, number>;
  limitHits: Record<string, number>;
  contractViolations: number;
  isolationViolations: number;
  /** By kind: `cross_user_delivery`, `shared_context`, `leaked_scope`, … */
  isolationViolationsByKind: Record<string, number>;
  legacyCalls: Record<string, number>;
  /** Tool results that arrived after their call had completed (recorded, never delivered), by tool. */
  lateResults: Record<string, number>;
}

/** The in-memory metrics port plus a snapshot. */
export type InMemoryMetrics = DispatcherMetrics & { snapshot(): MetricsSnapshot };

interface ToolStats {
  count: number;
  max: number;
  samples: number[];
  next: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/**
 * Metrics kept in memory: counts, a duration histogram and per-tool latency percentiles.
 * Each process keeps its own; pass the same instance to the factory and the event hub.
 *
 * @example
 * const metrics = createInMemoryMetrics();
 * const factory = createDispatcherFactory({ tools, sink, metrics });
 * metrics.snapshot().executions;
 */
export function createInMemoryMetrics(opts: { now?: () => number } = {}): InMemoryMetrics {
  const now = opts.now ?? Date.now;
  // Per tool, per status: the record in `executionList`, kept in first-seen order for snapshots.
  const executions = new Map<string, Map<ToolCallStatus, { tool: string; status: ToolCallStatus; count: number }>>();
  const executionList: { tool: string; status: ToolCallStatus; count: number }[] = [];
  const tools = new Map<string, ToolStats>();
  const histogram = new Array<number>(DURATION_BUCKETS_MS.length + 1).fill(0);
  let sumMs = 0;
  let durations = 0;
  const eventsByType = Object.fromEntries(RUN_EVENT_TYPES.map((t) => [t, 0])) as Record<RunEventType, number>;
  const runsByStatus = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
  const limitHits: Record<string, number> = {};
  const isolationByKind: Record<string, number> = {};
  const legacyCalls: Record<string, number> = {};
  const lateResults: Record<string, number> = {};
  let liveScopes = 0;
  let peakScopes = 0;
  let contractViolations = 0;
  let isolationViolations = 0;

  return {
    toolExecuted(tool, status, durationMs) {
      // Nested maps rather than a `${tool}\0${status}` key: no string built per call.
      let byStatus = executions.get(tool);
      if (!byStatus) {
        byStatus = new Map();
        executions.set(tool, byStatus);
      }
      let record = byStatus.get(status);
      if (!record) {
        record = { tool, status, count: 0 };
        byStatus.set(status, record);
        executionList.push(record);
      }
      record.count += 1;
      let stats = tools.get(tool);
      if (!stats) {
        stats = { count: 0, max: 0, samples: [], next: 0 };
        tools.set(tool, stats);
      }
      stats.count += 1;
      if (durationMs > stats.max) stats.max = durationMs;
      if (stats.samples.length < SAMPLES_PER_TOOL) stats.samples.push(durationMs);
      else {
        stats.samples[stats.next] = durationMs;
        stats.next = (stats.next + 1) % SAMPLES_PER_TOOL;
      }
      let bucket = 0;
      while (bucket < DURATION_BUCKETS_MS.length && !(durationMs <= (DURATION_BUCKETS_MS[bucket] as number)))
        bucket += 1;
      histogram[bucket] = (histogram[bucket] ?? 0) + 1;
      sumMs += durationMs;
      durations += 1;
    },
    eventEmitted(type) {
      eventsByType[type] += 1;
    },
    runFinished(_agent, status) {
      runsByStatus[status] += 1;
    },
    scopeOpened() {
      liveScopes += 1;
      if (liveScopes > peakScopes) peakScopes = liveScopes;
    },
    scopeClosed() {
      liveScopes -= 1;
    },
    limitHit(code) {
      bump(limitHits, code);
    },
    contractViolation() {
      contractViolations += 1;
    },
    isolationViolation(kind) {
      isolationViolations += 1;
      bump(isolationByKind, kind);
    },
    legacyCall(entryPoint) {
      bump(legacyCalls, entryPoint);
    },
    lateResult(result) {
      bump(lateResults, result.tool);
    },
    snapshot() {
      const finished = Object.values(runsByStatus).reduce((a, b) => a + b, 0);
      return {
        at: new Date(now()).toISOString(),
        liveScopes,
        peakScopes,
        activeRuns: Math.max(0, eventsByType.agent_started - finished),
        executions: executionList.map(({ tool, status, count }) => ({ tool, status, count })),
        toolLatency: [...tools].map(([tool, stats]) => {
          const sorted = [...stats.samples].sort((a, b) => a - b);
          return {
            tool,
            count: stats.count,
            p50: percentile(sorted, 50),
            p95: percentile(sorted, 95),
            p99: percentile(sorted, 99),
            max: stats.max,
          };
        }),
        durationHistogram: { bucketsMs: [...DURATION_BUCKETS_MS], counts: [...histogram], sumMs, count: durations },
        eventsByType: { ...eventsByType },
        runsByStatus: { ...runsByStatus },
        limitHits: { ...limitHits },
        contractViolations,
        isolationViolations,
        isolationViolationsByKind: { ...isolationByKind },
        legacyCalls: { ...legacyCalls },
        lateResults: { ...lateResults },
      };
    },
  };
}
