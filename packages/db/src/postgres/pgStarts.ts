import { and, asc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { IdempotencyKeyStore } from '../repositories/idempotencyKeys.ts';
import { type QueuedRunStore, queuedRowColumns, queuedRunColumns } from '../repositories/queuedRuns.ts';
import { LIVE_OWNERS } from './lease.ts';
import { PG_NOW_MS } from './pgClock.ts';
import type { PgDb } from './pgReads.ts';
import { idempotencyKeys, queuedRuns } from './schema.ts';

/**
 * The PostgreSQL {@link IdempotencyKeyStore}. A claim is one `INSERT … ON CONFLICT (user_id, key)
 * DO UPDATE … WHERE created_at < expiredBefore RETURNING`: a fresh key or an expired one is taken by
 * exactly one of any number of concurrent starts, in any number of processes; the others get no row
 * back and read the winner's record.
 */
export function createPgIdempotencyKeys(db: PgDb): IdempotencyKeyStore {
  const where = (userId: string, key: string) => and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key));
  return {
    async claim(record, expiredBefore) {
      // The key may be released between a lost claim and the read of the winner: then try again.
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const won = await db
          .insert(idempotencyKeys)
          .values({ ...record })
          .onConflictDoUpdate({
            target: [idempotencyKeys.userId, idempotencyKeys.key],
            set: {
              fingerprint: sql`excluded.fingerprint`,
              runId: sql`excluded.run_id`,
              threadId: sql`excluded.thread_id`,
              createdAt: sql`excluded.created_at`,
            },
            setWhere: lt(idempotencyKeys.createdAt, expiredBefore),
          })
          .returning({ runId: idempotencyKeys.runId });
        if (won.length === 1) return { claimed: true };
        const [existing] = await db.select().from(idempotencyKeys).where(where(record.userId, record.key));
        if (existing !== undefined) return { claimed: false, existing };
      }
      throw new Error(`idempotency key ${record.key} kept changing under five claims in a row`);
    },
    async release(userId, key, runId) {
      await db.delete(idempotencyKeys).where(and(where(userId, key), eq(idempotencyKeys.runId, runId)));
    },
    async prune(cutoff) {
      const deleted = await db
        .delete(idempotencyKeys)
        .where(lt(idempotencyKeys.createdAt, cutoff))
        .returning({ key: idempotencyKeys.key });
      return deleted.length;
    },
  };
}

/**
 * The PostgreSQL {@link QueuedRunStore}: rows in order of arrival (`pos`, a sequence), each owned by
 * the process (lease key `owner`) that queued or claimed it.
 */
export function createPgQueuedRuns(db: PgDb, owner: number): QueuedRunStore {
  const columns = queuedRunColumns(queuedRuns);
  const rowColumns = queuedRowColumns(queuedRuns);
  return {
    async insert(record) {
      await db.insert(queuedRuns).values({ ...record, owner });
    },
    async delete(runId) {
      const deleted = await db
        .delete(queuedRuns)
        .where(eq(queuedRuns.runId, runId))
        .returning({ runId: queuedRuns.runId });
      return deleted.length > 0;
    },
    async all() {
      return db.select(rowColumns).from(queuedRuns).orderBy(asc(queuedRuns.pos));
    },
    async get(runId) {
      const [row] = await db.select(rowColumns).from(queuedRuns).where(eq(queuedRuns.runId, runId));
      return row;
    },
    async take(runId) {
      const taken = await db
        .update(queuedRuns)
        .set({ takenBy: owner, takenAt: sql.raw(PG_NOW_MS) })
        .where(and(eq(queuedRuns.runId, runId), isNull(queuedRuns.takenBy)))
        .returning({ runId: queuedRuns.runId });
      return taken.length > 0;
    },
    async untake(runId) {
      await db
        .update(queuedRuns)
        .set({ takenBy: null, takenAt: null })
        .where(and(eq(queuedRuns.runId, runId), eq(queuedRuns.takenBy, owner)));
    },
    async renew(runIds) {
      if (runIds.length === 0) return;
      // Rows a sweep is taking over right now are skipped, not waited for: the two never deadlock.
      await db
        .update(queuedRuns)
        .set({ takenAt: sql.raw(PG_NOW_MS) })
        .where(
          sql`${queuedRuns.runId} IN (SELECT run_id FROM queued_runs
            WHERE run_id IN (${sql.join(
              runIds.map((runId) => sql`${runId}`),
              sql`, `,
            )}) AND taken_by = ${owner}
            ORDER BY run_id FOR UPDATE SKIP LOCKED)`,
        );
    },
    async takeLost(staleMs) {
      // One UPDATE, row by row re-checked: two processes taking over at once never get the same row.
      const rows = await db
        .update(queuedRuns)
        .set({ takenBy: owner, takenAt: sql.raw(PG_NOW_MS) })
        .where(
          sql`${queuedRuns.takenBy} IS NOT NULL AND ${queuedRuns.takenBy} <> ${owner}
            AND (${queuedRuns.takenBy}::bigint NOT IN (${sql.raw(LIVE_OWNERS)})
                 OR ${queuedRuns.takenAt} <= ${sql.raw(PG_NOW_MS)} - ${staleMs})
            AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.id = ${queuedRuns.runId})`,
        )
        .returning({ ...rowColumns, pos: queuedRuns.pos });
      return rows.sort((a, b) => a.pos - b.pos).map(({ pos: _pos, ...row }) => row);
    },
    async claim() {
      // One UPDATE: a row another claim took meanwhile is re-checked after its commit and found owned
      // by a live process (the set of live owners is taken when this statement starts). Owner 0: a row
      // from before owners existed, anyone's.
      const rows = await db
        .update(queuedRuns)
        .set({ owner })
        .where(
          sql`${queuedRuns.owner} = ${owner} OR ${queuedRuns.owner} = 0 OR ${queuedRuns.owner}::bigint NOT IN (${sql.raw(LIVE_OWNERS)})`,
        )
        .returning({ ...columns, pos: queuedRuns.pos });
      return rows.sort((a, b) => a.pos - b.pos).map(({ pos: _pos, ...record }) => record);
    },
  };
}
