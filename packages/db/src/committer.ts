import type Database from 'better-sqlite3';
import { createBatchExecutor, type WriteBatch } from './writeBatch.js';

/**
 * Commits {@link WriteBatch}es, one at a time: the next `commit` follows the previous `done`. The
 * inline committer writes on the calling thread and calls `done` before `commit` returns; the
 * thread committer calls it when the writer thread acknowledges.
 */
export interface Committer {
  /** Whether `done` is called before `commit` returns. */
  readonly sync: boolean;
  /**
   * Writes the batch in one transaction; `done(error)` once it has committed or rolled back. A
   * committer that fences (PostgreSQL with run leases) may leave out every row of runs whose lease
   * this process lost and commit the rest: `done(undefined, fenced)` names those runs.
   */
  commit(batch: WriteBatch, done: (error?: unknown, fenced?: ReadonlySet<string>) => void): void;
  /** Blocks this thread until the commit in flight (if any) has called `done`. */
  settleSync(): void;
  /** Releases the committer (the writer thread closes its connection); nothing may be in flight. */
  close(): void;
}

/** Commits on the given connection, on the calling thread: for `':memory:'` and `writer: 'inline'`. */
export function createInlineCommitter(sqlite: Database.Database): Committer {
  const executor = createBatchExecutor(sqlite);
  const transaction = sqlite.transaction((batch: WriteBatch) => executor.execute(batch));
  return {
    sync: true,
    commit(batch, done) {
      try {
        transaction(batch);
      } catch (error) {
        done(error);
        return;
      }
      done();
    },
    settleSync() {},
    close() {},
  };
}
