import { CapError } from '@toolrun/api';

/** Counts each user's open WebSocket connections; see {@link createWsConnectionCap}. */
export interface WsConnectionCap {
  /**
   * Claims a slot for `userId`'s connection `connectionId` (again for the same connection: nothing);
   * throws {@link CapError} `WS_CONNECTIONS_PER_USER` when the user holds `max` already.
   */
  claim(connectionId: string, userId: string): void;
  /** The connection closed: its slot is free. */
  release(connectionId: string): void;
  /** Open connections of `userId`. */
  count(userId: string): number;
}

/**
 * The per-user cap on WebSocket connections. A connection belongs to a user once its context is
 * authenticated (connection params or the upgrade's `Authorization`); anonymous ones count only
 * against the server's total connection bound.
 */
export function createWsConnectionCap(max: number): WsConnectionCap {
  const owners = new Map<string, string>();
  const perUser = new Map<string, number>();
  return {
    claim(connectionId, userId) {
      if (owners.has(connectionId)) return;
      const open = perUser.get(userId) ?? 0;
      if (open >= max) {
        throw new CapError(
          'WS_CONNECTIONS_PER_USER',
          `too many WebSocket connections: ${userId} already holds ${max}, the most one user may; close one first`,
        );
      }
      owners.set(connectionId, userId);
      perUser.set(userId, open + 1);
    },
    release(connectionId) {
      const userId = owners.get(connectionId);
      if (userId === undefined) return;
      owners.delete(connectionId);
      const open = (perUser.get(userId) ?? 1) - 1;
      if (open <= 0) perUser.delete(userId);
      else perUser.set(userId, open);
    },
    count: (userId) => perUser.get(userId) ?? 0,
  };
}
