import type { ConnectionInfo } from '../context.ts';
import { CapError } from './CapError.ts';

/** How many subscriptions one user and one connection may hold open at once. */
export interface SubscriptionCaps {
  /** Open subscriptions of one user, over every transport. */
  readonly perUser: number;
  /** Open subscriptions on one WebSocket connection. */
  readonly perConnection: number;
  /** Concurrent SSE streams of one user (each SSE stream is one subscription). */
  readonly ssePerUser: number;
}

/** The defaults: a console tab holds two or three subscriptions; a busy integration a few dozen. */
export const DEFAULT_SUBSCRIPTION_CAPS: SubscriptionCaps = { perUser: 200, perConnection: 100, ssePerUser: 100 };

/** Who holds a subscription: the user, and the connection it runs on when the transport says. */
export interface SubscriptionOwner {
  readonly userId: string;
  readonly connection?: ConnectionInfo | null | undefined;
}

/** Counts open subscriptions in total, per user, per SSE user and per WebSocket connection. */
export interface SubscriptionCounter {
  counts(): { runs: number; feeds: number };
  /** Counts one more, or throws {@link CapError} when `owner` is at a cap; the returned function releases it. */
  track(kind: 'runs' | 'feeds', owner?: SubscriptionOwner): () => void;
}

/**
 * Builds the counter behind `services.trackSubscription`. A subscription without an owner is only
 * counted (in-process callers); with one, every cap that applies is checked before anything is
 * counted, so a refusal leaves every count as it was.
 */
export function createSubscriptionCounter(caps: SubscriptionCaps): SubscriptionCounter {
  const totals = { runs: 0, feeds: 0 };
  const perUser = new Map<string, number>();
  const ssePerUser = new Map<string, number>();
  const perConnection = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, by: number) => {
    const next = (map.get(key) ?? 0) + by;
    if (next <= 0) map.delete(key);
    else map.set(key, next);
  };
  return {
    counts: () => ({ ...totals }),
    track(kind, owner) {
      const user = owner?.userId;
      const sse = owner?.connection?.transport === 'sse';
      const ws = owner?.connection?.transport === 'ws' ? owner.connection.id : undefined;
      if (user !== undefined) {
        if ((perUser.get(user) ?? 0) >= caps.perUser) {
          throw new CapError(
            'SUBSCRIPTIONS_PER_USER',
            `too many open subscriptions: ${user} already holds ${caps.perUser}, the most one user may; close one first`,
          );
        }
        if (sse && (ssePerUser.get(user) ?? 0) >= caps.ssePerUser) {
          throw new CapError(
            'SSE_STREAMS_PER_USER',
            `too many SSE streams: ${user} already holds ${caps.ssePerUser}, the most one user may; close one or use a WebSocket`,
          );
        }
      }
      if (ws !== undefined && (perConnection.get(ws) ?? 0) >= caps.perConnection) {
        throw new CapError(
          'SUBSCRIPTIONS_PER_CONNECTION',
          `too many subscriptions on this WebSocket connection: ${caps.perConnection} are open, the most one connection may; stop one first`,
        );
      }
      totals[kind] += 1;
      if (user !== undefined) add(perUser, user, 1);
      if (user !== undefined && sse) add(ssePerUser, user, 1);
      if (ws !== undefined) add(perConnection, ws, 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        totals[kind] -= 1;
        if (user !== undefined) add(perUser, user, -1);
        if (user !== undefined && sse) add(ssePerUser, user, -1);
        if (ws !== undefined) add(perConnection, ws, -1);
      };
    },
  };
}
