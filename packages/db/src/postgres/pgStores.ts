import { and, asc, desc, eq, inArray, lt, or } from 'drizzle-orm';
import { iso, parseJson } from '../drizzleDb.ts';
import { DbError } from '../errors.ts';
import { checkLimit, decodeCursor, encodeCursor } from '../paging.ts';
import {
  type AuditRecord,
  type AuditSummary,
  type NewAudit,
  newAuditRow,
  toRecord,
  toSummary,
} from '../repositories/audits.ts';
import { type PruneOptions, type PruneResult, pruneBounds } from '../repositories/retention.ts';
import { checkKey, checkUser, type ScratchpadStore } from '../repositories/scratchpad.ts';
import type { PgDb } from './pgReads.ts';
import { approvals, isolationAudits, runs, scratchpadEntries } from './schema.ts';

/** Isolation audits on PostgreSQL, newest first, keyset paged on `(created_at, id)`. */
export function createPgAudits(db: PgDb, now: () => number) {
  return {
    async insert(audit: NewAudit): Promise<AuditRecord> {
      const row = newAuditRow(audit, now());
      await db.insert(isolationAudits).values(row);
      return toRecord(row);
    },
    async list(
      opts: { limit?: number; cursor?: string } = {},
    ): Promise<{ items: AuditSummary[]; nextCursor: string | null }> {
      const limit = checkLimit(opts.limit ?? 50);
      const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor);
      const rows = await db
        .select({
          id: isolationAudits.id,
          ranBy: isolationAudits.ranBy,
          params: isolationAudits.params,
          violations: isolationAudits.violations,
          createdAt: isolationAudits.createdAt,
        })
        .from(isolationAudits)
        .where(
          after === undefined
            ? undefined
            : or(
                lt(isolationAudits.createdAt, after.time),
                and(eq(isolationAudits.createdAt, after.time), lt(isolationAudits.id, after.id)),
              ),
        )
        .orderBy(desc(isolationAudits.createdAt), desc(isolationAudits.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toSummary),
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.createdAt, last.id) : null,
      };
    },
    async get(id: string): Promise<AuditRecord | undefined> {
      const [row] = await db.select().from(isolationAudits).where(eq(isolationAudits.id, id));
      return row === undefined ? undefined : toRecord(row);
    },
  };
}

/** The PostgreSQL {@link ScratchpadStore}: one row per `(user_id, key)`, every query keyed by user. */
export function createPgScratchpad(db: PgDb, now: () => number): ScratchpadStore {
  const whereKey = (userId: string, key: string) =>
    and(eq(scratchpadEntries.userId, checkUser(userId)), eq(scratchpadEntries.key, checkKey(key)));
  return {
    async get(userId, key) {
      const [row] = await db
        .select({ value: scratchpadEntries.value })
        .from(scratchpadEntries)
        .where(whereKey(userId, key));
      return row === undefined ? undefined : parseJson(row.value);
    },
    async set(userId, key, value) {
      const text = JSON.stringify(value);
      if (text === undefined) throw new DbError('INVALID_ARGUMENT', 'value must be JSON');
      const updatedAt = now();
      await db
        .insert(scratchpadEntries)
        .values({ userId: checkUser(userId), key: checkKey(key), value: text, updatedAt })
        .onConflictDoUpdate({
          target: [scratchpadEntries.userId, scratchpadEntries.key],
          set: { value: text, updatedAt },
        });
    },
    async delete(userId, key) {
      const deleted = await db
        .delete(scratchpadEntries)
        .where(whereKey(userId, key))
        .returning({ key: scratchpadEntries.key });
      return deleted.length > 0;
    },
    async list(userId) {
      const rows = await db
        .select({ key: scratchpadEntries.key, value: scratchpadEntries.value, updatedAt: scratchpadEntries.updatedAt })
        .from(scratchpadEntries)
        .where(eq(scratchpadEntries.userId, checkUser(userId)))
        .orderBy(asc(scratchpadEntries.key));
      return rows.map((row) => ({ key: row.key, value: parseJson(row.value), updatedAt: iso(row.updatedAt) }));
    },
  };
}

/**
 * Retention on PostgreSQL: deletes finished runs older than the cutoff in batches of `batchSize`
 * runs, each its own short transaction (events and tool calls go with them, `ON DELETE CASCADE`).
 * `FOR UPDATE SKIP LOCKED` lets two processes prune at once without waiting for each other.
 */
export async function prunePg(
  db: PgDb,
  opts: PruneOptions & { now: () => number; ensureOpen: () => void },
): Promise<PruneResult> {
  const { cutoff, batchSize } = pruneBounds(opts);
  const total: PruneResult = { runs: 0, events: 0 };
  for (;;) {
    opts.signal?.throwIfAborted();
    opts.ensureOpen();
    const done = await db.transaction(async (tx): Promise<PruneResult> => {
      // finished_at is NULL while a run is running, so a live run is never selected.
      const ids = await tx
        .select({ id: runs.id, lastSeq: runs.lastSeq })
        .from(runs)
        .where(
          opts.userId === undefined
            ? lt(runs.finishedAt, cutoff)
            : and(lt(runs.finishedAt, cutoff), eq(runs.userId, opts.userId)),
        )
        .orderBy(asc(runs.finishedAt))
        .limit(batchSize)
        .for('update', { skipLocked: true });
      if (ids.length === 0) return { runs: 0, events: 0 };
      const runIds = ids.map((r) => r.id);
      // Approvals have no foreign key (written before their run's events commit): deleted here.
      await tx.delete(approvals).where(inArray(approvals.runId, runIds));
      await tx.delete(runs).where(inArray(runs.id, runIds));
      // Every stored run holds exactly its seqs 1..last_seq (gaps are refused at write time).
      return { runs: ids.length, events: ids.reduce((sum, r) => sum + r.lastSeq, 0) };
    });
    total.runs += done.runs;
    total.events += done.events;
    if (done.runs < batchSize) return total;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
