import { and, asc, eq, isNull } from 'drizzle-orm';
import type { DrizzleDb } from '../drizzleDb.ts';
import { queuedRuns } from '../schema.ts';

/** A run waiting for a slot, as stored. `input` and `roles` are JSON text. */
export interface QueuedRunRecord {
  readonly runId: string;
  readonly userId: string;
  readonly threadId: string;
  readonly roles: string;
  readonly agent: string;
  readonly input: string;
  /** Epoch milliseconds. */
  readonly enqueuedAt: number;
  /** Epoch milliseconds: past it, the run ends `cancelled` without starting. */
  readonly deadlineAt: number;
  /** JSON of the starting request's W3C trace context (`{ traceparent, tracestate? }`), or null. */
  readonly traceContext: string | null;
}

/** A queued run's row: the record, and who took it to execute it (null: nobody yet). */
export interface QueuedRunRow extends QueuedRunRecord {
  /** The taker's lease key (PostgreSQL), 0 on SQLite; null while the run waits. */
  readonly takenBy: number | null;
}

/**
 * The durable side of the per-user run queue; the order of arrival is kept by the store. Each row
 * belongs to the process that queued it (PostgreSQL: its lease key), so that several processes on one
 * database never restore the same queued run.
 */
export interface QueuedRunStore {
  /** Stores a queued run as this process's. */
  insert(record: QueuedRunRecord): Promise<void>;
  /** Whether a row was deleted. */
  delete(runId: string): Promise<boolean>;
  /** Every queued run, whoever owns it, in order of arrival. */
  all(): Promise<QueuedRunRow[]>;
  /** One queued run's row, or undefined when there is none. */
  get(runId: string): Promise<QueuedRunRow | undefined>;
  /**
   * Takes the run for this process, before it executes it or ends it: one compare-and-set on the row,
   * so of any number of processes taking one run at once exactly one gets true; false when the row is
   * gone or taken already. A taken row is never offered again; it goes when its run has ended.
   */
  take(runId: string): Promise<boolean>;
  /** Gives back a run this process took and did not start (it waits again); a no-op otherwise. */
  untake(runId: string): Promise<void>;
  /**
   * Renews this process's takes of `runIds` (their `takenAt` becomes now on the database's clock),
   * while it works on them: a take renewed within `staleMs` is never taken over by
   * {@link QueuedRunStore.takeLost}, however long the run's first commit takes. A row another process
   * took over (or that is gone) is left alone. SQLite (one process per file): nothing to renew.
   */
  renew(runIds: readonly string[]): Promise<void>;
  /**
   * Takes over, for this process, the rows other processes took whose run never began (no `runs` row:
   * not even its `agent_started` is committed) and whose taker is dead (its lease lock is not held) or
   * did not take or renew it within `staleMs` on the database's clock (it stalled): their tools may
   * have run, so their runs are to be closed `interrupted`, never executed again. SQLite (one process
   * per file): none.
   */
  takeLost(staleMs: number): Promise<QueuedRunRow[]>;
  /**
   * The queue to restore at start: takes the rows this process owns or whose owner is dead (its lease
   * lock is not held), atomically, marking them this process's, and returns them in order of arrival.
   * Two processes claiming at once never get the same row. SQLite (one process per file): every row.
   */
  claim(): Promise<QueuedRunRecord[]>;
}

/** The SQLite rows behind {@link QueuedRunStore}, synchronous. */
export interface SqliteQueuedRuns {
  insert(record: QueuedRunRecord): void;
  delete(runId: string): boolean;
  all(): QueuedRunRow[];
  get(runId: string): QueuedRunRow | undefined;
  take(runId: string): boolean;
  untake(runId: string): void;
}

/** The columns of a {@link QueuedRunRecord} in either dialect's `queued_runs` table, for a select. */
export function queuedRunColumns<T extends { [K in keyof QueuedRunRecord]: unknown }>(
  table: T,
): { [K in keyof QueuedRunRecord]: T[K] } {
  const { runId, userId, threadId, roles, agent, input, enqueuedAt, deadlineAt, traceContext } = table;
  return { runId, userId, threadId, roles, agent, input, enqueuedAt, deadlineAt, traceContext };
}

/** {@link queuedRunColumns} and who took the run. */
export function queuedRowColumns<T extends { [K in keyof QueuedRunRow]: unknown }>(
  table: T,
): { [K in keyof QueuedRunRow]: T[K] } {
  return { ...queuedRunColumns(table), takenBy: table.takenBy };
}

/** The record of a row, as a job or a restart needs it (without who took it). */
export function queuedRunRecordOf(row: QueuedRunRow): QueuedRunRecord {
  const { takenBy: _takenBy, ...record } = row;
  return record;
}

/** The SQLite {@link QueuedRunStore}'s rows (the process owns every row of its file: owner 0). */
export function createQueuedRunStore(db: DrizzleDb): SqliteQueuedRuns {
  const columns = queuedRowColumns(queuedRuns);
  return {
    insert(record) {
      db.insert(queuedRuns)
        .values({ ...record })
        .run();
    },
    delete(runId) {
      return db.delete(queuedRuns).where(eq(queuedRuns.runId, runId)).run().changes > 0;
    },
    all() {
      return db.select(columns).from(queuedRuns).orderBy(asc(queuedRuns.pos)).all();
    },
    get(runId) {
      return db.select(columns).from(queuedRuns).where(eq(queuedRuns.runId, runId)).get();
    },
    take(runId) {
      return (
        db
          .update(queuedRuns)
          .set({ takenBy: 0, takenAt: Date.now() })
          .where(and(eq(queuedRuns.runId, runId), isNull(queuedRuns.takenBy)))
          .run().changes > 0
      );
    },
    untake(runId) {
      db.update(queuedRuns).set({ takenBy: null, takenAt: null }).where(eq(queuedRuns.runId, runId)).run();
    },
  };
}
