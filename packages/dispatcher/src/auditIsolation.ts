import type { CrossUserDelivery, DeliveryLedger } from './deliveryLedger.ts';
import type { DispatcherFactory } from './factory.ts';

/** The passive isolation audit: what actually happened so far, as plain JSON. */
export interface IsolationAuditReport {
  at: string;
  passed: boolean;
  liveScopes: number;
  peakScopes: number;
  activeRuns: number;
  /** Scopes garbage-collected without being disposed. */
  leakedScopes: number;
  /** Attempts to bind a context or its run to a second scope (each refused). */
  sharedContexts: number;
  contractViolations: number;
  deliveries: number;
  adminViewDeliveries: number;
  crossUserDeliveryCount: number;
  crossUserDeliveries: CrossUserDelivery[];
}

/**
 * Audits isolation from the record: the factory's scope and context counters and the ledger of
 * deliveries (event, recipient). Passes when no event crossed users outside an admin view, no
 * scope leaked, no context was shared and no event broke the ordering rules.
 */
export function auditIsolation(opts: { factory: DispatcherFactory; ledger?: DeliveryLedger }): IsolationAuditReport {
  const stats = opts.factory.stats();
  const deliveries = opts.ledger?.report() ?? {
    deliveries: 0,
    adminViewDeliveries: 0,
    crossUserDeliveryCount: 0,
    crossUserDeliveries: [],
  };
  return {
    at: new Date().toISOString(),
    passed:
      deliveries.crossUserDeliveryCount === 0 &&
      stats.leakedScopes === 0 &&
      stats.sharedContexts === 0 &&
      stats.contractViolations === 0,
    liveScopes: stats.liveScopes,
    peakScopes: stats.peakScopes,
    activeRuns: stats.activeRuns,
    leakedScopes: stats.leakedScopes,
    sharedContexts: stats.sharedContexts,
    contractViolations: stats.contractViolations,
    ...deliveries,
  };
}
