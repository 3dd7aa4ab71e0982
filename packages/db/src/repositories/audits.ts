import { randomUUID } from 'node:crypto';
import type { JsonValue } from '@toolrun/dispatcher';
import { and, desc, eq, lt, or } from 'drizzle-orm';
import { type DrizzleDb, iso, parseJson } from '../drizzleDb.ts';
import { DbError } from '../errors.ts';
import { checkLimit, decodeCursor, encodeCursor } from '../paging.ts';
import { isolationAudits } from '../schema.ts';

/** A stored isolation audit: who ran it, with what parameters, and the probe's report. */
export interface AuditRecord {
  id: string;
  ranBy: string;
  params: JsonValue;
  report: JsonValue;
  violations: number;
  createdAt: string;
}

/** An audit in a listing: everything but the (large) report. */
export type AuditSummary = Omit<AuditRecord, 'report'>;

/** What {@link AuditsRepository.insert} takes. */
export interface NewAudit {
  ranBy: string;
  params: JsonValue;
  report: JsonValue;
  violations: number;
}

/** Isolation audits, newest first. */
export interface AuditsRepository {
  insert(audit: NewAudit): AuditRecord;
  /** Default limit 50 (at most 1,000); keyset cursor on `(createdAt, id)`. */
  list(opts?: { limit?: number; cursor?: string }): { items: AuditSummary[]; nextCursor: string | null };
  get(id: string): AuditRecord | undefined;
}

/** Audit rows through drizzle. */
export function createAuditsRepository(db: DrizzleDb, now: () => number): AuditsRepository {
  return {
    insert(audit) {
      const row = newAuditRow(audit, now());
      db.insert(isolationAudits).values(row).run();
      return toRecord(row);
    },
    list(opts = {}) {
      const limit = checkLimit(opts.limit ?? 50);
      const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor);
      const rows = db
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
        .limit(limit + 1)
        .all();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toSummary),
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.createdAt, last.id) : null,
      };
    },
    get(id) {
      const row = db.select().from(isolationAudits).where(eq(isolationAudits.id, id)).get();
      return row === undefined ? undefined : toRecord(row);
    },
  };
}

/** Checks a new audit and gives its row ({@link DbError} `INVALID_ARGUMENT` when it cannot be stored). */
export function newAuditRow(audit: NewAudit, createdAt: number): typeof isolationAudits.$inferSelect {
  if (audit.ranBy === '') throw new DbError('INVALID_ARGUMENT', 'ranBy must be a non-empty user id');
  if (!Number.isSafeInteger(audit.violations) || audit.violations < 0) {
    throw new DbError('INVALID_ARGUMENT', 'violations must be a non-negative integer');
  }
  const params = JSON.stringify(audit.params);
  const report = JSON.stringify(audit.report);
  if (params === undefined || report === undefined) {
    throw new DbError('INVALID_ARGUMENT', 'params and report must be JSON');
  }
  return { id: randomUUID(), ranBy: audit.ranBy, params, report, violations: audit.violations, createdAt };
}

/** An audit row as a record. */
export function toRecord(row: typeof isolationAudits.$inferSelect): AuditRecord {
  return { ...row, params: parseJson(row.params), report: parseJson(row.report), createdAt: iso(row.createdAt) };
}

/** An audit row without its report, as a listing shows it. */
export function toSummary(row: Omit<typeof isolationAudits.$inferSelect, 'report'>): AuditSummary {
  return { ...row, params: parseJson(row.params), createdAt: iso(row.createdAt) };
}
