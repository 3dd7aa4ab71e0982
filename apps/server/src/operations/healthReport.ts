import type { ToolrunServices, ToolSourceStatus } from '@toolrun/api';
import type { HealthReason, HealthThresholds, HealthVerdict } from './judgeHealth.ts';
import { judgeHealth } from './judgeHealth.ts';
import type { Canary } from './startCanary.ts';
import { CANARY_USER_ID } from './startCanary.ts';

/** The body of `GET /healthz`. */
export interface HealthReport {
  readonly status: HealthVerdict | 'shutting_down';
  readonly reasons: readonly HealthReason[];
  readonly database: boolean;
  readonly liveScopes: number;
  readonly activeRuns: number;
  readonly subscribers: number;
  readonly scopeCreateMs: number;
  /** MCP tool sources, when configured: each one's state, tools and processes. */
  readonly toolSources?: readonly ToolSourceStatus[];
  readonly canary:
    | { readonly enabled: false }
    | {
        readonly enabled: true;
        readonly ok: boolean | undefined;
        readonly at: string | undefined;
        readonly latencyMs: number | undefined;
        readonly consecutiveFailures: number;
        readonly problems: readonly string[];
      };
  readonly uptimeSeconds: number;
}

/**
 * `GET /healthz`'s reporter. Each report reads the services, times one scope's creation and disposal
 * (no run, no event: a scope starts its run on its first call) and judges. `failing` and
 * `shutting_down` answer 503, the rest 200.
 */
export function createHealthReporter(opts: {
  services: ToolrunServices;
  /** The canary, once it runs (it needs the server's URL, so it starts after listening). */
  canary: () => Canary | undefined;
  thresholds: HealthThresholds;
}): (shuttingDown: boolean) => Promise<HealthReport> {
  // The reporter's own probe scopes, left out of the legacy share.
  let probes = 0;
  return async (shuttingDown) => {
    const report = await healthReport({
      services: opts.services,
      canary: opts.canary(),
      thresholds: opts.thresholds,
      shuttingDown,
      probes,
    });
    probes += 1;
    return report;
  };
}

async function healthReport(opts: {
  services: ToolrunServices;
  canary: Canary | undefined;
  thresholds: HealthThresholds;
  shuttingDown: boolean;
  probes: number;
}): Promise<HealthReport> {
  const { services, canary } = opts;
  let database = false;
  try {
    // A round trip to PostgreSQL; SQLite answers at once.
    database = await services.db.healthy();
  } catch {
    database = false;
  }
  const stats = services.factory.stats();
  const scopeCreateMs = timeScopeCreation(services);
  const metrics = services.metrics.snapshot();
  const last = canary?.last();
  const toolSources = services.toolSources?.health();
  const verdict = judgeHealth(
    {
      database,
      canary: last,
      leakedScopes: stats.leakedScopes,
      contractViolations: metrics.contractViolations,
      isolationViolations: metrics.isolationViolations,
      scopeCreateMs,
      scopesOpened: stats.scopesOpened - opts.probes,
      legacyCalls: stats.legacyCalls,
      // A source that is down degrades the server; its tools answer TOOL_UNAVAILABLE meanwhile.
      sourcesDown: (toolSources ?? []).filter((source) => source.state === 'down').map((source) => source.name),
    },
    opts.thresholds,
  );
  return {
    status: opts.shuttingDown ? 'shutting_down' : verdict.status,
    reasons: verdict.reasons,
    database,
    liveScopes: services.factory.liveScopes(),
    activeRuns: services.factory.activeRuns().length,
    subscribers: services.hub.subscriberCount(),
    scopeCreateMs,
    ...(toolSources === undefined ? {} : { toolSources }),
    canary:
      canary === undefined
        ? { enabled: false }
        : {
            enabled: true,
            ok: last?.ok,
            at: last?.at,
            latencyMs: last?.latencyMs,
            consecutiveFailures: canary.consecutiveFailures(),
            problems: last?.problems ?? [],
          },
    uptimeSeconds: Math.round(process.uptime()),
  };
}

function timeScopeCreation(services: ToolrunServices): number {
  const started = performance.now();
  try {
    const context = services.factory.createContext({ userId: CANARY_USER_ID, roles: ['user'] });
    const scope = services.factory.forRequest(context);
    void scope[Symbol.asyncDispose]();
  } catch {
    // Refused (shutting down, the canary at its scope limit): not a creation time.
    return 0;
  }
  return performance.now() - started;
}
