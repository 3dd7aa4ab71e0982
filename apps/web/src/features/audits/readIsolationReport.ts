/** An isolation audit's report as the console reads it (stored reports are plain JSON). */
export interface IsolationReportView {
  passed: boolean;
  users: number;
  runsPerUser: number;
  runs: number;
  events: number;
  deliveries: number;
  crossUserDeliveries: { eventId: string; ownerUserId: string; recipientUserId: string }[];
  missingDeliveries: { eventId: string; userId: string }[];
  liveScopesBefore: number;
  liveScopesAfter: number;
  leakedScopes: number;
  sharedContexts: number;
  contractViolations: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Everything that went wrong, counted; zero is a pass. */
  violations: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/**
 * Reads a report from `audit.get` / `audit.isolation.run` (either the report itself or a record
 * with a `report` field), tolerating missing fields. A report passes only when the probe said so
 * AND every violation count is zero: the console never shows PASS next to a non-zero figure.
 */
export function readIsolationReport(value: unknown): IsolationReportView {
  const outer = obj(value);
  const r = 'report' in outer ? obj(outer.report) : outer;
  const crossUserDeliveries = list(r.crossUserDeliveries).map((d) => ({
    eventId: str(d.eventId),
    ownerUserId: str(d.ownerUserId),
    recipientUserId: str(d.recipientUserId),
  }));
  const missingDeliveries = list(r.missingDeliveries).map((d) => ({ eventId: str(d.eventId), userId: str(d.userId) }));
  const leakedScopes = num(r.leakedScopes);
  const sharedContexts = num(r.sharedContexts);
  const contractViolations = num(r.contractViolations);
  const violations =
    crossUserDeliveries.length + missingDeliveries.length + leakedScopes + sharedContexts + contractViolations;
  return {
    passed: r.passed === true && violations === 0,
    users: num(r.users),
    runsPerUser: num(r.runsPerUser),
    runs: num(r.runs),
    events: num(r.events),
    deliveries: num(r.deliveries),
    crossUserDeliveries,
    missingDeliveries,
    liveScopesBefore: num(r.liveScopesBefore),
    liveScopesAfter: num(r.liveScopesAfter),
    leakedScopes,
    sharedContexts,
    contractViolations,
    startedAt: str(r.startedAt),
    finishedAt: str(r.finishedAt),
    durationMs: num(r.durationMs),
    violations,
  };
}
