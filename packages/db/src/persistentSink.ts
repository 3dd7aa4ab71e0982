import type { EventSink, RunEvent } from '@toolrun/dispatcher';
import type Database from 'better-sqlite3';
import { DbError, toDbError } from './errors.ts';
import type { CheckedWrite, EventWriter } from './eventWriter.ts';

/** Counters of a {@link PersistentSink}; `transactions < writes` is group commit at work. */
export interface SinkStats {
  /** Writes accepted and committed. */
  writes: number;
  /** Writes refused (rejected promise). */
  rejected: number;
  /** Events committed. */
  events: number;
  /** Transactions committed. */
  transactions: number;
}

/**
 * The dispatcher's {@link EventSink} backed by SQLite, with group commit: every write that arrives
 * before the event loop's next check phase (the same tick and its microtasks, across runs) goes
 * into one transaction. `write()` resolves after that transaction has committed; `onCommitted`
 * receives the committed events (in commit order) before any of those promises resolves.
 */
export interface PersistentSink extends EventSink {
  write(events: readonly RunEvent[]): Promise<void>;
  /** Commits everything written so far now; resolves when it is committed. */
  flush(): Promise<void>;
  stats(): SinkStats;
}

/** @internal */
export interface PersistentSinkOptions {
  sqlite: Database.Database;
  writer: EventWriter;
  onCommitted?: ((events: readonly RunEvent[]) => void) | undefined;
  /** A transaction takes whole writes until it holds at least this many events; the rest wait one turn. */
  maxBatchEvents?: number;
}

interface PendingWrite {
  events: readonly RunEvent[];
  resolve: () => void;
  reject: (error: DbError) => void;
}

/** @internal Made by `ToolrunDatabase.createPersistentSink`; `close()` is called by the database. */
export function createPersistentSink(opts: PersistentSinkOptions): PersistentSink & { close(): void } {
  const { sqlite, writer, onCommitted } = opts;
  const maxBatchEvents = opts.maxBatchEvents ?? 2_000;
  const stats: SinkStats = { writes: 0, rejected: 0, events: 0, transactions: 0 };
  let queue: PendingWrite[] = [];
  let immediate: NodeJS.Immediate | undefined;
  let committing = false;
  let closed = false;

  const commitBatch = (batch: PendingWrite[]): void => {
    const accepted: PendingWrite[] = [];
    const refused: { write: PendingWrite; error: DbError }[] = [];
    try {
      sqlite.transaction(() => {
        for (const write of batch) {
          let checked: CheckedWrite;
          try {
            checked = writer.check(write.events);
          } catch (error) {
            // Refused before touching the database: the rest of the batch goes on.
            refused.push({ write, error: toDbError(error, 'INVALID_EVENT') });
            continue;
          }
          writer.run(checked);
          accepted.push(write);
        }
      })();
    } catch (error) {
      // A statement or the commit failed (disk full, I/O error): the transaction rolled back, so
      // nothing of the batch is stored and the cached run state may be ahead of the tables.
      writer.reset();
      const failure = toDbError(error, 'WRITE_FAILED');
      const refusedWrites = new Map(refused.map((r) => [r.write, r.error]));
      for (const write of batch) write.reject(refusedWrites.get(write) ?? failure);
      stats.rejected += batch.length;
      return;
    }
    stats.transactions += 1;
    stats.writes += accepted.length;
    stats.rejected += refused.length;
    if (accepted.length > 0) {
      const committed = accepted.length === 1 ? (accepted[0]?.events ?? []) : accepted.flatMap((w) => w.events);
      stats.events += committed.length;
      if (onCommitted !== undefined) {
        try {
          onCommitted(committed);
        } catch (error) {
          // The events are durable already; a failing subscriber must not turn them into a failed write.
          process.emitWarning(`onCommitted threw: ${error instanceof Error ? error.message : String(error)}`, {
            code: 'TOOLRUN_DB_ON_COMMITTED',
          });
        }
      }
    }
    for (const write of accepted) write.resolve();
    for (const { write, error } of refused) write.reject(error);
  };

  const takeBatch = (): PendingWrite[] => {
    let size = 0;
    let count = 0;
    while (count < queue.length && size < maxBatchEvents) {
      size += queue[count]?.events.length ?? 0;
      count += 1;
    }
    const batch = queue.slice(0, count);
    queue = queue.slice(count);
    return batch;
  };

  /** Commits one batch per call (or all of them) so a deep queue does not hold the event loop. */
  const commit = (all: boolean): void => {
    if (committing) return;
    committing = true;
    try {
      do commitBatch(takeBatch());
      while (all && queue.length > 0);
    } finally {
      committing = false;
    }
    if (queue.length > 0) schedule();
  };

  const schedule = (): void => {
    immediate ??= setImmediate(() => {
      immediate = undefined;
      commit(false);
    });
  };

  return {
    write(events) {
      if (closed) return Promise.reject(new DbError('CLOSED', 'the persistent sink is closed'));
      if (events.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ events, resolve, reject });
        schedule();
      });
    },
    flush() {
      if (queue.length === 0) return Promise.resolve();
      if (committing) {
        // Called from onCommitted: commit the rest once the current batch has been handed over.
        return new Promise<void>((resolve) =>
          setImmediate(() => {
            commit(true);
            resolve();
          }),
        );
      }
      commit(true);
      return Promise.resolve();
    },
    stats: () => ({ ...stats }),
    close() {
      if (closed) return;
      if (queue.length > 0) commit(true);
      closed = true;
      // Only non-empty when close() is called from inside onCommitted.
      for (const write of queue)
        write.reject(new DbError('CLOSED', 'the database was closed before this write committed'));
      queue = [];
      if (immediate !== undefined) clearImmediate(immediate);
      immediate = undefined;
    },
  };
}
