import type { RunEvent } from '@toolrun/dispatcher';
import { and, asc, desc, eq, gt } from 'drizzle-orm';
import type { DrizzleDb } from '../drizzleDb.ts';
import { DbError } from '../errors.ts';
import { checkLimit, MAX_EVENT_PAGE_SIZE, splitEventId } from '../paging.ts';
import { runEvents } from '../schema.ts';

/** Options of {@link EventsRepository.feedAfter}. */
export interface FeedOptions {
  /** Whose events; `null` for every user's (the admin all-users view). */
  userId: string | null;
  /** Resume after this event (`${runId}:${seq}`); from the oldest stored event when absent. */
  afterEventId?: string;
  /** At most this many events (1 to 10,000); all of them when absent. */
  limit?: number;
}

/** Reads stored events: the replay path of `runs.events` and `runs.feed`. */
export interface EventsRepository {
  /** The run's events with seq > `afterSeq`, in seq order: exactly the rest of the run (or `limit` of it). */
  after(runId: string, afterSeq: number, limit?: number): RunEvent[];
  /**
   * Events after `afterEventId` in global commit order (each run's events in seq order).
   * Throws {@link DbError} `UNKNOWN_EVENT` when that event is not stored, or (for a user's feed)
   * belongs to another user.
   */
  feedAfter(opts: FeedOptions): RunEvent[];
  /**
   * The id of the feed's last stored event (the user's, or everyone's when `userId` is null), or
   * undefined when it holds none: a position a feed can resume after, taken at subscribe time.
   */
  feedHead(userId: string | null): string | undefined;
}

/** Event rows through drizzle; `data` holds each event exactly as it was written. */
export function createEventsRepository(db: DrizzleDb): EventsRepository {
  return {
    after(runId, afterSeq, limit) {
      const query = db
        .select({ data: runEvents.data })
        .from(runEvents)
        .where(and(eq(runEvents.runId, runId), gt(runEvents.seq, afterSeq)))
        .orderBy(asc(runEvents.seq));
      const rows = limit === undefined ? query.all() : query.limit(checkLimit(limit, MAX_EVENT_PAGE_SIZE)).all();
      return rows.map(toEvent);
    },
    feedAfter(opts) {
      let afterPos = 0;
      if (opts.afterEventId !== undefined) {
        const unknown = new DbError('UNKNOWN_EVENT', `event ${opts.afterEventId} is not stored`);
        const key = splitEventId(opts.afterEventId);
        if (key === undefined) throw unknown;
        const row = db
          .select({ pos: runEvents.pos, userId: runEvents.userId })
          .from(runEvents)
          .where(and(eq(runEvents.runId, key.runId), eq(runEvents.seq, key.seq)))
          .get();
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
        opts.limit === undefined ? query.all() : query.limit(checkLimit(opts.limit, MAX_EVENT_PAGE_SIZE)).all();
      return rows.map(toEvent);
    },
    feedHead(userId) {
      const row = db
        .select({ runId: runEvents.runId, seq: runEvents.seq })
        .from(runEvents)
        .where(userId === null ? undefined : eq(runEvents.userId, userId))
        .orderBy(desc(runEvents.pos))
        .limit(1)
        .get();
      return row === undefined ? undefined : `${row.runId}:${row.seq}`;
    },
  };
}

function toEvent(row: { data: string }): RunEvent {
  // Written by the sink from a RunEvent with JSON.stringify: parsing gives the same event back.
  return JSON.parse(row.data) as RunEvent;
}
