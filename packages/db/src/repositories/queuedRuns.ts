import { asc, eq } from 'drizzle-orm';
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
  all(): Promise<QueuedRunRecord[]>;
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
  all(): QueuedRunRecord[];
}

/** The columns of a {@link QueuedRunRecord} in either dialect's `queued_runs` table, for a select. */
export function queuedRunColumns<T extends { [K in keyof QueuedRunRecord]: unknown }>(
  table: T,
): { [K in keyof QueuedRunRecord]: T[K] } {
  const { runId, userId, threadId, roles, agent, input, enqueuedAt, deadlineAt } = table;
  return { runId, userId, threadId, roles, agent, input, enqueuedAt, deadlineAt };
}

/** The SQLite {@link QueuedRunStore}'s rows (the process owns every row of its file: owner 0). */
export function createQueuedRunStore(db: DrizzleDb): SqliteQueuedRuns {
  const columns = queuedRunColumns(queuedRuns);
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
  };
}
