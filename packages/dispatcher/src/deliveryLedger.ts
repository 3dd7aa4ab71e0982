import type { RunEvent } from './events.ts';
import type { DispatcherMetrics } from './ports.ts';

/** One delivery that should not have happened: an event shown to a user who does not own it. */
export interface CrossUserDelivery {
  eventId: string;
  ownerUserId: string;
  recipientUserId: string;
}

/** What a ledger has seen, as plain JSON. */
export interface DeliveryReport {
  deliveries: number;
  /** Deliveries through an admin's explicit all-users view: allowed, and recorded as such. */
  adminViewDeliveries: number;
  crossUserDeliveryCount: number;
  /** The first `maxRecorded` cross-user deliveries. */
  crossUserDeliveries: CrossUserDelivery[];
}

/**
 * The record of who received which event. Every delivery is recorded as (event, recipient);
 * a delivery to someone other than the event's owner that is not an admin view is a cross-user
 * delivery: counted, kept (up to a bound) and reported as an isolation violation.
 */
export interface DeliveryLedger {
  record(delivery: { event: RunEvent; recipientUserId: string; adminView: boolean }): void;
  counts(): { deliveries: number; adminViewDeliveries: number; crossUserDeliveries: number };
  crossUser(): CrossUserDelivery[];
  report(): DeliveryReport;
}

/**
 * An in-memory delivery ledger. Keeps counters and at most `maxRecorded` (default 1,000)
 * cross-user deliveries, so it can run for the life of a server.
 */
export function createDeliveryLedger(opts: { metrics?: DispatcherMetrics; maxRecorded?: number } = {}): DeliveryLedger {
  const maxRecorded = opts.maxRecorded ?? 1_000;
  const crossUser: CrossUserDelivery[] = [];
  let deliveries = 0;
  let adminView = 0;
  let crossUserCount = 0;
  const counts = () => ({ deliveries, adminViewDeliveries: adminView, crossUserDeliveries: crossUserCount });
  return {
    record({ event, recipientUserId, adminView: isAdminView }) {
      deliveries += 1;
      if (isAdminView) {
        adminView += 1;
        return;
      }
      if (event.userId !== recipientUserId) {
        crossUserCount += 1;
        opts.metrics?.isolationViolation('cross_user_delivery');
        if (crossUser.length < maxRecorded) {
          crossUser.push({ eventId: event.id, ownerUserId: event.userId, recipientUserId });
        }
      }
    },
    counts,
    crossUser: () => crossUser.map((d) => ({ ...d })),
    report: () => ({
      deliveries,
      adminViewDeliveries: adminView,
      crossUserDeliveryCount: crossUserCount,
      crossUserDeliveries: crossUser.map((d) => ({ ...d })),
    }),
  };
}
