import type { ErrorInfo, JsonValue, RunEvent } from '@toolrun/dispatcher';
import { and, asc, desc, eq, gt, lt, notInArray, or, type SQL } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { iso, isoOrNull, parseJson } from '../drizzleDb.ts';
import { DbError } from '../errors.ts';
import { checkLimit, decodeCursor, encodeCursor, MAX_EVENT_PAGE_SIZE, splitEventId } from '../paging.ts';
import type { FeedOptions } from '../repositories/events.ts';
import type { ListRunsOptions, RunPage, RunRecord } from '../repositories/runs.ts';
import type { ToolCallRecord } from '../repositories/toolCalls.ts';
import type * as schema from './schema.ts';
import { runEvents, runs, toolCalls } from './schema.ts';

/** The drizzle handle of the PostgreSQL repositories (node-postgres over a pool). */
export type PgDb = NodePgDatabase<typeof schema>;

/** The reads of runs, events and tool calls on PostgreSQL: the same answers as the SQLite repositories. */
export interface PgReads {
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(opts: ListRunsOptions): Promise<RunPage>;
  eventsAfter(runId: string, afterSeq: number, limit?: number): Promise<RunEvent[]>;
  feedAfter(opts: FeedOptions): Promise<RunEvent[]>;
  feedHead(userId: string | null): Promise<string | undefined>;
  toolCallsOf(runId: string): Promise<ToolCallRecord[]>;
}

/** Run, event and tool-call reads through drizzle's pg dialect. */
export function createPgReads(db: PgDb): PgReads {
  return {
    async getRun(runId) {
      const [row] = await db.select().from(runs).where(eq(runs.id, runId));
      return row === undefined ? undefined : toRunRecord(row);
    },
    async listRuns(opts) {
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
      const rows = await db
        .select()
        .from(runs)
        .where(and(...conditions))
        .orderBy(desc(runs.startedAt), desc(runs.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toRunRecord),
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.startedAt, last.id) : null,
      };
    },
    async eventsAfter(runId, afterSeq, limit) {
      const query = db
        .select({ data: runEvents.data })
        .from(runEvents)
        .where(and(eq(runEvents.runId, runId), gt(runEvents.seq, afterSeq)))
        .orderBy(asc(runEvents.seq));
      const rows = limit === undefined ? await query : await query.limit(checkLimit(limit, MAX_EVENT_PAGE_SIZE));
      return rows.map(toEvent);
    },
    async feedAfter(opts) {
      let afterPos = 0;
      if (opts.afterEventId !== undefined) {
        const unknown = new DbError('UNKNOWN_EVENT', `event ${opts.afterEventId} is not stored`);
        const key = splitEventId(opts.afterEventId);
        if (key === undefined || key.seq > 2_147_483_647) throw unknown;
        const [row] = await db
          .select({ pos: runEvents.pos, userId: runEvents.userId })
          .from(runEvents)
          .where(and(eq(runEvents.runId, key.runId), eq(runEvents.seq, key.seq)));
        // Another user's event is as unknown as a missing one: a feed reveals nothing across users.
        if (row === undefined || (opts.userId !== null && row.userId !== opts.userId)) throw unknown;
        afterPos = row.pos;
      }
      const query = db
        .select({ data: runEvents.data })
        .from(runEvents)
        .where(and(gt(runEvents.pos, afterPos), opts.userId === null ? undefined : eq(runEvents.userId, opts.userId)))
        .orderBy(asc(runEvents.pos));
      const rows =
        opts.limit === undefined ? await query : await query.limit(checkLimit(opts.limit, MAX_EVENT_PAGE_SIZE));
      return rows.map(toEvent);
    },
    async feedHead(userId) {
      const [row] = await db
        .select({ runId: runEvents.runId, seq: runEvents.seq })
        .from(runEvents)
        .where(userId === null ? undefined : eq(runEvents.userId, userId))
        .orderBy(desc(runEvents.pos))
        .limit(1);
      return row === undefined ? undefined : `${row.runId}:${row.seq}`;
    },
    async toolCallsOf(runId) {
      const rows = await db.select().from(toolCalls).where(eq(toolCalls.runId, runId)).orderBy(asc(toolCalls.startSeq));
      return rows.map((row) => ({
        ...row,
        input: parseJson(row.input),
        output: row.output === null ? null : parseJson(row.output),
        error: row.error === null ? null : (parseJson(row.error) as unknown as ErrorInfo),
        startedAt: iso(row.startedAt),
        finishedAt: isoOrNull(row.finishedAt),
      }));
    },
  };
}

function toRunRecord(row: typeof runs.$inferSelect): RunRecord {
  return {
    id: row.id,
    userId: row.userId,
    threadId: row.threadId,
    agent: row.agent,
    input: parseJson(row.input),
    status: row.status,
    result: row.result === null ? null : parseJson(row.result),
    error: row.error === null ? null : (parseJson(row.error) as unknown as ErrorInfo),
    startedAt: iso(row.startedAt),
    finishedAt: isoOrNull(row.finishedAt),
    durationMs: row.durationMs,
    toolCalls: row.toolCalls,
    lastSeq: row.lastSeq,
  };
}

function toEvent(row: { data: string }): RunEvent {
  // Written by the sink with JSON.stringify: parsing gives the same event back.
  return JSON.parse(row.data) as RunEvent;
}

/** A JSON column's text, or null. */
export function jsonOrNull(text: string | null): JsonValue | null {
  return text === null ? null : parseJson(text);
}
