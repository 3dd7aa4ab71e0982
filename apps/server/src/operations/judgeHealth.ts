import type { CanaryResult } from './runCanary.ts';

/** `ok`: all well; `degraded`: serving, but something needs a look; `failing`: take it out of rotation. */
export type HealthVerdict = 'ok' | 'degraded' | 'failing';

/** One finding behind a verdict. */
export interface HealthReason {
  readonly check: string;
  readonly verdict: Exclude<HealthVerdict, 'ok'>;
  readonly message: string;
}

/** Thresholds of {@link judgeHealth}; configuration (`TOOLRUN_HEALTH_*`). */
export interface HealthThresholds {
  /** Scope creation (context, scope, dispose) slower than this, in milliseconds, is `degraded`. */
  readonly maxScopeCreateMs: number;
  /** Calls through the deprecated entry points above this share of all scopes is `degraded`. */
  readonly maxLegacyShare: number;
}

/** What {@link judgeHealth} looks at: read off the running services by `/healthz`. */
export interface HealthInputs {
  readonly database: boolean;
  readonly canary: CanaryResult | undefined;
  readonly leakedScopes: number;
  readonly contractViolations: number;
  readonly isolationViolations: number;
  readonly scopeCreateMs: number;
  readonly scopesOpened: number;
  readonly legacyCalls: number;
  /** Tool sources (MCP servers) that are down, by name. */
  readonly sourcesDown?: readonly string[];
}

/**
 * The server's health verdict with its reasons: the worst finding wins. A database that does not
 * answer, a failing golden-path canary or any isolation violation is `failing`; leaked scopes,
 * contract violations, slow scope creation, too many legacy calls and tool sources down are `degraded`.
 */
export function judgeHealth(
  inputs: HealthInputs,
  thresholds: HealthThresholds,
): { status: HealthVerdict; reasons: HealthReason[] } {
  const reasons: HealthReason[] = [];
  const fail = (check: string, message: string) => reasons.push({ check, verdict: 'failing', message });
  const degrade = (check: string, message: string) => reasons.push({ check, verdict: 'degraded', message });
  if (!inputs.database) fail('database', 'the database does not answer');
  if (inputs.canary !== undefined && !inputs.canary.ok) {
    fail('canary', `the golden-path canary failed at ${inputs.canary.at}: ${inputs.canary.problems.join('; ')}`);
  }
  if (inputs.isolationViolations > 0) {
    fail('isolation', `${inputs.isolationViolations} isolation violation(s) seen since start`);
  }
  if (inputs.leakedScopes > 0) degrade('scopes', `${inputs.leakedScopes} scope(s) were never disposed`);
  if (inputs.contractViolations > 0) {
    degrade('contract', `${inputs.contractViolations} event contract violation(s) seen since start`);
  }
  if (inputs.scopeCreateMs > thresholds.maxScopeCreateMs) {
    degrade(
      'scope_creation',
      `creating a scope took ${inputs.scopeCreateMs.toFixed(2)} ms (threshold ${thresholds.maxScopeCreateMs} ms)`,
    );
  }
  const legacyShare = inputs.scopesOpened === 0 ? 0 : inputs.legacyCalls / inputs.scopesOpened;
  if (legacyShare > thresholds.maxLegacyShare) {
    degrade(
      'legacy_entry_points',
      `${(legacyShare * 100).toFixed(1)}% of scopes came through deprecated entry points (threshold ${(thresholds.maxLegacyShare * 100).toFixed(1)}%)`,
    );
  }
  for (const source of inputs.sourcesDown ?? []) degrade('tool_source', `tool source ${source} is down`);
  const status = reasons.some((r) => r.verdict === 'failing') ? 'failing' : reasons.length > 0 ? 'degraded' : 'ok';
  return { status, reasons };
}
