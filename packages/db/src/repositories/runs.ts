import type { ErrorInfo, JsonValue } from '@toolrun/dispatcher';
import { and, desc, eq, lt, notInArray, or, type SQL } from 'drizzle-orm';
import { type DrizzleDb, iso, isoOrNull } from '../drizzleDb.ts';
import { checkLimit, decodeCursor, encodeCursor } from '../paging.ts';
import { type RunRecordStatus, runs } from '../schema.ts';

/** A run as stored: its row, derived from its events. Times are ISO-8601. */
export interface RunRecord {
  id: string;
  userId: string;
  threadId: string;
  agent: string;
  input: JsonValue;
  status: RunRecordStatus;
  result: JsonValue | null;
  error: ErrorInfo | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  /** Tool calls started (`tool_executing` events). */
  toolCalls: number;
  /** Seq of the run's last stored event. */
  lastSeq: number;
}

/** Filters and page of {@link RunsRepository.list}. Newest runs first. */
export interface ListRunsOptions {
  userId?: string;
  /** Leaves these users' runs out (the all-users view hides service identities such as the canary). */
  excludeUserIds?: readonly string[];
  status?: RunRecordStatus;
  agent?: string;
  /** 1 to 1,000. */
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** A page of runs; `nextCursor` is null on the last page. */
export interface RunPage {
  items: RunRecord[];
  nextCursor: string | null;
}

/** Reads run rows (they are written only by the persistent sink). */
export interface RunsRepository {
  get(runId: string): RunRecord | undefined;
  list(opts: ListRunsOptions): RunPage;
}

/** Run rows through drizzle: keyset paging on `(started_at, id)` descending. */
export function createRunsRepository(db: DrizzleDb): RunsRepository {
  return {
    get(runId) {
      const row = db.select().from(runs).where(eq(runs.id, runId)).get();
      return row === undefined ? undefined : toRunRecord(row);
    },
    list(opts) {
      const limit = checkLimit(opts.limit);
      const conditions: (SQL | undefined)[] = [];
      if (opts.userId !== undefined) conditions.push(eq(runs.userId, opts.userId));
      if (opts.excludeUserIds !== undefined && opts.excludeUserIds.length > 0) {
        conditions.push(notInArray(runs.userId, [...opts.excludeUserIds]));
      }
      if (opts.status !== undefined) conditions.push(eq(runs.status, opts.status));
      if (opts.agent !== undefined) conditions.push(eq(runs.agent, opts.agent));
      if (opts.cursor !== undefined) {
        const after = decodeCursor(opts.cursor);
        conditions.push(or(lt(runs.startedAt, after.time), and(eq(runs.startedAt, after.time), lt(runs.id, after.id))));
      }
      const rows = db
        .select()
        .from(runs)
        .where(and(...conditions))
        .orderBy(desc(runs.startedAt), desc(runs.id))
        .limit(limit + 1)
        .all();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toRunRecord),
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.startedAt, last.id) : null,
      };
    },
  };
}

function toRunRecord(row: typeof runs.$inferSelect): RunRecord {
  return {
    id: row.id,
    userId: row.userId,
    threadId: row.threadId,
    agent: row.agent,
    input: row.input,
    status: row.status,
    result: row.result,
    error: row.error,
    startedAt: iso(row.startedAt),
    finishedAt: isoOrNull(row.finishedAt),
    durationMs: row.durationMs,
    toolCalls: row.toolCalls,
    lastSeq: row.lastSeq,
  };
}
