import { describe, expect, it } from 'vitest';
import type { HealthInputs } from './judgeHealth.ts';
import { judgeHealth } from './judgeHealth.ts';

const thresholds = { maxScopeCreateMs: 50, maxLegacyShare: 0.5 };
const healthy: HealthInputs = {
  database: true,
  canary: { ok: true, at: '2026-12-03T00:00:00.000Z', latencyMs: 12, runId: 'run_1', problems: [] },
  leakedScopes: 0,
  contractViolations: 0,
  isolationViolations: 0,
  scopeCreateMs: 0.05,
  scopesOpened: 100,
  legacyCalls: 0,
};

describe('judgeHealth', () => {
  it('is ok with no finding, also before the first canary check', () => {
    expect(judgeHealth(healthy, thresholds)).toEqual({ status: 'ok', reasons: [] });
    expect(judgeHealth({ ...healthy, canary: undefined }, thresholds).status).toBe('ok');
  });

  it('is failing for a dead database, a failed canary or any isolation violation, with a reason each', () => {
    const failed = { ...healthy.canary, ok: false, problems: ['wrong answer: 41'] } as HealthInputs['canary'];
    const verdict = judgeHealth({ ...healthy, database: false, canary: failed, isolationViolations: 1 }, thresholds);
    expect(verdict.status).toBe('failing');
    expect(verdict.reasons.map((r) => [r.check, r.verdict])).toEqual([
      ['database', 'failing'],
      ['canary', 'failing'],
      ['isolation', 'failing'],
    ]);
    expect(verdict.reasons[1]?.message).toContain('wrong answer: 41');
  });

  it('is degraded for leaked scopes, contract violations, slow scopes, many legacy calls and sources down', () => {
    const verdict = judgeHealth(
      {
        ...healthy,
        leakedScopes: 2,
        contractViolations: 1,
        scopeCreateMs: 80,
        legacyCalls: 60,
        sourcesDown: ['files'],
      },
      thresholds,
    );
    expect(verdict.status).toBe('degraded');
    expect(verdict.reasons.map((r) => r.check)).toEqual([
      'scopes',
      'contract',
      'scope_creation',
      'legacy_entry_points',
      'tool_source',
    ]);
    expect(judgeHealth({ ...healthy, legacyCalls: 50 }, thresholds).status).toBe('ok');
  });
});
