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

/** The durable side of the per-user run queue; the order of arrival is kept by the store. */
export interface QueuedRunStore {
  insert(record: QueuedRunRecord): Promise<void>;
  /** Whether a row was deleted. */
  delete(runId: string): Promise<boolean>;
  /** Every queued run, in order of arrival. */
  all(): Promise<QueuedRunRecord[]>;
}

/** The SQLite rows behind {@link QueuedRunStore}, synchronous. */
export interface SqliteQueuedRuns {
  insert(record: QueuedRunRecord): void;
  delete(runId: string): boolean;
  all(): QueuedRunRecord[];
}

/** The SQLite {@link QueuedRunStore}. */
export function createQueuedRunStore(db: DrizzleDb): SqliteQueuedRuns {
  const columns = {
    runId: queuedRuns.runId,
    userId: queuedRuns.userId,
    threadId: queuedRuns.threadId,
    roles: queuedRuns.roles,
    agent: queuedRuns.agent,
    input: queuedRuns.input,
    enqueuedAt: queuedRuns.enqueuedAt,
    deadlineAt: queuedRuns.deadlineAt,
  };
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
