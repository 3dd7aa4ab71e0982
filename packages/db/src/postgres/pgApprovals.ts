import { and, asc, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import { parseJson } from '../drizzleDb.ts';
import { checkLimit, decodeCursor, encodeCursor } from '../paging.ts';
import {
  type ApprovalsRepository,
  groupParkedRuns,
  newApprovalRow,
  settledColumns,
  toApprovalRecord,
} from '../repositories/approvals.ts';
import type { PgDb } from './pgReads.ts';
import { approvals, runs } from './schema.ts';

/**
 * Approvals on PostgreSQL, with the SQLite repository's rows and records. A decision is one
 * compare-and-set `UPDATE … WHERE state = 'pending'`: with several processes the first decision
 * wins and every later one sees no row changed. `parkedRuns` lists only the runs this process owns
 * (`runs.owner`), the ones its crash recovery adopted: another live process's parked runs are its own.
 */
export function createPgApprovals(db: PgDb, owner: number): ApprovalsRepository {
  return {
    async create(approval) {
      await db.insert(approvals).values(newApprovalRow(approval));
    },
    async settle(id, settlement) {
      const changed = await db
        .update(approvals)
        .set(settledColumns(settlement))
        .where(and(eq(approvals.id, id), eq(approvals.state, 'pending')))
        .returning({ id: approvals.id });
      return changed.length === 1;
    },
    async get(id) {
      const [row] = await db.select().from(approvals).where(eq(approvals.id, id));
      return row === undefined ? undefined : toApprovalRecord(row);
    },
    async list(opts) {
      const limit = checkLimit(opts.limit ?? 50);
      const where: SQL[] = [];
      if (opts.userId !== undefined) where.push(eq(approvals.userId, opts.userId));
      if (opts.status !== undefined) where.push(eq(approvals.state, opts.status));
      if (opts.runId !== undefined) where.push(eq(approvals.runId, opts.runId));
      if (opts.cursor !== undefined) {
        const { time, id } = decodeCursor(opts.cursor);
        const before = or(lt(approvals.createdAt, time), and(eq(approvals.createdAt, time), lt(approvals.id, id)));
        if (before !== undefined) where.push(before);
      }
      const rows = await db
        .select()
        .from(approvals)
        .where(and(...where))
        .orderBy(desc(approvals.createdAt), desc(approvals.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toApprovalRecord),
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.createdAt, last.id) : null,
      };
    },
    async parkedRuns() {
      const rows = await db
        .select({ approval: approvals, run: runs })
        .from(approvals)
        .innerJoin(runs, eq(runs.id, approvals.runId))
        .where(and(eq(approvals.state, 'pending'), eq(runs.status, 'running'), eq(runs.owner, owner)))
        .orderBy(asc(runs.startedAt), asc(runs.id), asc(approvals.createdAt), asc(approvals.id));
      return groupParkedRuns(
        rows.map(({ approval, run }) => ({ approval, run: { ...run, input: parseJson(run.input) } })),
      );
    },
  };
}
