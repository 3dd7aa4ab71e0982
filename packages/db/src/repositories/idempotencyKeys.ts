import { and, eq, lt } from 'drizzle-orm';
import type { DrizzleDb } from '../drizzleDb.ts';
import { idempotencyKeys } from '../schema.ts';

/** What a key recorded: the run its first start made, and a hash of that start's parameters. */
export interface IdempotencyRecord {
  readonly userId: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly runId: string;
  readonly threadId: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/** The answer of {@link IdempotencyKeyStore.claim}. */
export type IdempotencyClaim = { claimed: true } | { claimed: false; existing: IdempotencyRecord };

/**
 * `runs.start` idempotency keys, per user. A claim is atomic on both backends, across processes on
 * PostgreSQL (one `INSERT … ON CONFLICT`), so concurrent starts with one key cannot both win.
 */
export interface IdempotencyKeyStore {
  /**
   * Records `record` unless the user already has a live key with that name: returns the existing
   * record then (`claimed: false`), else `claimed: true`. A record created before `expiredBefore`
   * counts as absent and is replaced.
   */
  claim(record: IdempotencyRecord, expiredBefore: number): Promise<IdempotencyClaim>;
  /** Forgets the key if it still names `runId` (a start that failed before its run existed). */
  release(userId: string, key: string, runId: string): Promise<void>;
  /** Deletes keys created before `cutoff`; returns how many. */
  prune(cutoff: number): Promise<number>;
}

/** The SQLite rows behind {@link IdempotencyKeyStore}: synchronous, so a claim is one transaction. */
export interface SqliteIdempotencyKeys {
  claim(record: IdempotencyRecord, expiredBefore: number): IdempotencyClaim;
  release(userId: string, key: string, runId: string): void;
  prune(cutoff: number): number;
}

/** The SQLite {@link IdempotencyKeyStore}: one row per `(user_id, key)`. */
export function createIdempotencyKeyStore(db: DrizzleDb): SqliteIdempotencyKeys {
  const where = (userId: string, key: string) => and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key));
  return {
    claim(record, expiredBefore) {
      return db.transaction((tx) => {
        const existing = tx.select().from(idempotencyKeys).where(where(record.userId, record.key)).get();
        if (existing !== undefined && existing.createdAt >= expiredBefore) return { claimed: false, existing };
        if (existing !== undefined) tx.delete(idempotencyKeys).where(where(record.userId, record.key)).run();
        tx.insert(idempotencyKeys)
          .values({ ...record })
          .run();
        return { claimed: true };
      });
    },
    release(userId, key, runId) {
      db.delete(idempotencyKeys)
        .where(and(where(userId, key), eq(idempotencyKeys.runId, runId)))
        .run();
    },
    prune(cutoff) {
      return db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, cutoff)).run().changes;
    },
  };
}
