import type { DispatcherMetrics, ToolrunServices, ToolSourceStatus } from '@toolrun/api';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CanaryResult } from './operations/runCanary.ts';

/** Prometheus exposition of the dispatcher's figures and the process's own. */
export interface PrometheusMetrics {
  readonly registry: Registry;
  /** Feeds the duration histograms; pass it to `createToolrunServices({ metricsPorts })`. */
  readonly port: DispatcherMetrics;
  /** Connects the gauges and counters to the running services (their in-memory snapshot). */
  bind(services: ToolrunServices): void;
  /** Records one golden-path canary check (`toolrun_canary_*`). */
  canaryChecked(result: CanaryResult): void;
}

const DURATION_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Builds a registry with the process's default metrics, histograms fed directly by the dispatcher's
 * metrics port, and gauges and counters that read the in-memory snapshot when scraped (`collect()`),
 * so `/metrics` and `metrics.snapshot` agree.
 */
export function createPrometheusMetrics(): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let services: ToolrunServices | undefined;
  const snapshot = () => services?.metrics.snapshot();

  const toolDuration = new Histogram({
    name: 'toolrun_tool_duration_seconds',
    help: 'Duration of tool calls, by tool and status.',
    labelNames: ['tool', 'status'] as const,
    buckets: DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: 'toolrun_run_duration_seconds',
    help: 'Duration of agent runs, by agent and status.',
    labelNames: ['agent', 'status'] as const,
    buckets: DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });

  const gauge = (name: string, help: string, read: (s: ToolrunServices) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        if (services !== undefined) this.set(read(services));
      },
    });
  gauge('toolrun_live_scopes', 'Request scopes alive now.', (s) => s.factory.liveScopes());
  gauge(
    'toolrun_peak_scopes',
    'Most request scopes alive at once since start.',
    (s) => s.metrics.snapshot().peakScopes,
  );
  gauge('toolrun_active_runs', 'Agent runs in progress.', (s) => s.factory.activeRuns().length);
  gauge('toolrun_event_subscribers', 'Live event subscriptions on the hub.', (s) => s.hub.subscriberCount());

  // MCP tool sources, one series per source (the configuration bounds the label values).
  const perSource = (name: string, help: string, read: (source: ToolSourceStatus) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['source'] as const,
      registers: [registry],
      collect() {
        const sources = services?.toolSources?.health();
        if (sources === undefined) return;
        this.reset();
        for (const source of sources) {
          const value = read(source);
          if (value !== undefined) this.set({ source: source.name }, value);
        }
      },
    });
  perSource('toolrun_mcp_source_up', 'Whether an MCP tool source is connected (1) or not (0).', (s) =>
    s.state === 'ready' ? 1 : 0,
  );
  perSource('toolrun_mcp_source_tools', "An MCP tool source's tools in the registry.", (s) => s.tools);
  perSource('toolrun_mcp_source_processes', "A per-user MCP source's running processes.", (s) => s.processes);

  const counter = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => { labels: Record<L, string>; value: number }[] | undefined,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        const rows = read();
        if (rows === undefined) return;
        this.reset();
        for (const row of rows) this.inc(row.labels, row.value);
      },
    });
  counter('toolrun_tool_executions_total', 'Tool calls by tool and status.', ['tool', 'status'], () =>
    snapshot()?.executions.map((e) => ({ labels: { tool: e.tool, status: e.status }, value: e.count })),
  );
  counter('toolrun_events_total', 'Run events emitted, by type.', ['type'], () =>
    entries(snapshot()?.eventsByType, 'type'),
  );
  counter('toolrun_runs_total', 'Finished runs, by status.', ['status'], () =>
    entries(snapshot()?.runsByStatus, 'status'),
  );
  counter('toolrun_limit_hits_total', 'Requests refused by a limit, by code.', ['code'], () =>
    entries(snapshot()?.limitHits, 'code'),
  );
  counter('toolrun_legacy_calls_total', 'Calls through the compatibility entry points.', ['entry_point'], () =>
    entries(snapshot()?.legacyCalls, 'entry_point'),
  );
  counter(
    'toolrun_late_results_total',
    'Tool results that arrived after their call completed, by tool.',
    ['tool'],
    () => entries(snapshot()?.lateResults, 'tool'),
  );
  counter('toolrun_contract_violations_total', 'Events refused by the ordering state machine.', [], () => {
    const s = snapshot();
    return s === undefined ? undefined : [{ labels: {}, value: s.contractViolations }];
  });
  counter('toolrun_isolation_violations_total', 'Isolation invariants found broken.', [], () => {
    const s = snapshot();
    return s === undefined ? undefined : [{ labels: {}, value: s.isolationViolations }];
  });

  const canaryChecks = new Counter({
    name: 'toolrun_canary_checks_total',
    help: 'Golden-path canary checks, by verdict (ok, failed).',
    labelNames: ['verdict'] as const,
    registers: [registry],
  });
  const canaryLatency = new Histogram({
    name: 'toolrun_canary_latency_seconds',
    help: 'Golden-path canary latency: runs.start to agent_completed through the HTTP API.',
    buckets: DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  const canaryUp = new Gauge({
    name: 'toolrun_canary_up',
    help: '1 when the latest golden-path canary check passed, 0 when it failed.',
    registers: [registry],
  });
  const canaryLastSuccess = new Gauge({
    name: 'toolrun_canary_last_success_timestamp_seconds',
    help: 'When the golden-path canary last passed (Unix seconds).',
    registers: [registry],
  });

  const port: DispatcherMetrics = {
    toolExecuted(tool, status, durationMs) {
      toolDuration.observe({ tool, status }, durationMs / 1000);
    },
    runFinished(agent, status, durationMs) {
      runDuration.observe({ agent, status }, durationMs / 1000);
    },
    eventEmitted() {},
    scopeOpened() {},
    scopeClosed() {},
    limitHit() {},
    contractViolation() {},
    isolationViolation() {},
    legacyCall() {},
  };

  return {
    registry,
    port,
    bind(next) {
      services = next;
    },
    canaryChecked(result) {
      canaryChecks.inc({ verdict: result.ok ? 'ok' : 'failed' });
      canaryUp.set(result.ok ? 1 : 0);
      if (result.ok) {
        canaryLatency.observe(result.latencyMs / 1000);
        canaryLastSuccess.set(Date.parse(result.at) / 1000);
      }
    },
  };
}

function entries<L extends string>(
  record: Readonly<Record<string, number>> | undefined,
  label: L,
): { labels: Record<L, string>; value: number }[] | undefined {
  if (record === undefined) return undefined;
  return Object.entries(record).map(([key, value]) => ({ labels: { [label]: key } as Record<L, string>, value }));
}
