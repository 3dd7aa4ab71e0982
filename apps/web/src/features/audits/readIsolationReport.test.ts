import { describe, expect, it } from 'vitest';
import { readIsolationReport } from './readIsolationReport.ts';

const clean = {
  passed: true,
  users: 3,
  runsPerUser: 2,
  runs: 6,
  events: 60,
  deliveries: 60,
  crossUserDeliveries: [],
  missingDeliveries: [],
  liveScopesBefore: 0,
  liveScopesAfter: 0,
  leakedScopes: 0,
  sharedContexts: 0,
  contractViolations: 0,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
  durationMs: 1000,
};

describe('readIsolationReport', () => {
  it('passes a clean report, whether given the report or a stored record holding it', () => {
    expect(readIsolationReport(clean)).toMatchObject({ passed: true, violations: 0, runs: 6 });
    expect(readIsolationReport({ id: 'a1', report: clean })).toMatchObject({ passed: true, violations: 0 });
  });

  it('fails a report with any violation even if it claims to pass, and keeps the offending events', () => {
    const leaky = {
      ...clean,
      crossUserDeliveries: [{ eventId: 'r1:3', ownerUserId: 'u1', recipientUserId: 'u2' }],
      leakedScopes: 1,
    };
    const view = readIsolationReport(leaky);
    expect(view.passed).toBe(false);
    expect(view.violations).toBe(2);
    expect(view.crossUserDeliveries).toEqual([{ eventId: 'r1:3', ownerUserId: 'u1', recipientUserId: 'u2' }]);
  });

  it('fails an unreadable report instead of passing it', () => {
    expect(readIsolationReport(null).passed).toBe(false);
    expect(readIsolationReport({ passed: 'yes' }).passed).toBe(false);
  });
});
