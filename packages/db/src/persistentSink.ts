import type { EventSink, RunEvent } from '@toolrun/dispatcher';
import type { Committer } from './committer.ts';
import { DbError, toDbError } from './errors.ts';
import type { BatchDraft, EventWriter } from './eventWriter.ts';
import { createFencedRuns, fencedError, runsOf } from './fencedRuns.ts';

/** Counters of a {@link PersistentSink}; `transactions < writes` is group commit at work. */
export interface SinkStats {
  /** Writes accepted and committed. */
  writes: number;
  /** Writes refused (rejected promise). */
  rejected: number;
  /** Events committed. */
  events: number;
  /** Transactions committed that held writes of this sink. */
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
  /** Commits everything written so far now; resolves when it is committed (or refused). */
  flush(): Promise<void>;
  stats(): SinkStats;
}

/** @internal Options of {@link createCommitPipeline}. */
export interface CommitPipelineOptions {
  writer: EventWriter;
  committer: Committer;
  /** A transaction takes whole writes until it holds at least this many events; the rest wait their turn. */
  maxBatchEvents?: number;
  /**
   * Commits on this thread, synchronously: the batches of an asynchronous `committer` (the writer
   * thread) whose rows hold more than `maxAsyncBatchBytes` of text go here instead (see README, "The
   * writer thread", backlog bound).
   */
  overflow?: Committer;
  /** Above this many UTF-16 code units of row text, a batch is committed by `overflow` (default 1 Mi). */
  maxAsyncBatchBytes?: number;
  /**
   * Called with the run ids of a batch's writes before they are checked, so that a backend whose
   * lookups are asynchronous (PostgreSQL) can load the state of runs its cache lacks. A rejection
   * fails the batch's writes as a failed transaction would.
   */
  prepare?: (runIds: readonly string[]) => Promise<void>;
}

/** Options of a {@link PersistentSink}. */
export interface PersistentSinkOptions {
  /** The committed events, once per transaction, in commit order, before the writes resolve. */
  onCommitted?: (events: readonly RunEvent[]) => void;
  /**
   * Runs whose writes this process may no longer commit because it lost their lease (PostgreSQL
   * with `runLeaseMs`: the lease expired, or another process closed or took the run): their events
   * were dropped from the transaction (never stored, never passed to `onCommitted`) and the writes
   * rejected (`RUN_FINISHED`). Called once per transaction that refused some, with those runs.
   */
  onFenced?: (runIds: readonly string[]) => void;
}

interface SinkState {
  onCommitted: ((events: readonly RunEvent[]) => void) | undefined;
  onFenced: ((runIds: readonly string[]) => void) | undefined;
  stats: SinkStats;
}

interface PendingWrite {
  sink: SinkState;
  events: readonly RunEvent[];
  resolve: () => void;
  reject: (error: DbError) => void;
}

/**
 * A transaction's writes. Emptied by `finish`: stack traces captured while it finishes (an error a
 * subscriber creates in `onCommitted`) keep the closures of its frames alive, and through them this
 * object, for as long as the error lives; only an empty batch makes that harmless.
 */
interface Batch {
  writes: PendingWrite[];
  accepted: PendingWrite[];
  refused: { write: PendingWrite; error: DbError }[];
  /** Runs refused because their lease is lost, per sink (reported through `onFenced`). */
  fenced: Map<SinkState, Set<string>>;
  draft: BatchDraft | undefined;
  /** Whether its committer called `done` before `commit` returned. */
  sync: boolean;
}

/**
 * @internal One database's group commit, shared by its sinks: a queue of writes, checked on this
 * thread against the run-state cache (refusals never reach SQLite) and committed one transaction at
 * a time by the committer (inline, or on the writer thread). Made by `openDatabase`.
 */
export interface CommitPipeline {
  createSink(opts?: PersistentSinkOptions): PersistentSink;
  /** Lets writes of these runs through again (this process adopted them after their lease was lost). */
  unfence(runIds: readonly string[]): void;
  /** Commits what is queued (waiting synchronously for the writer thread), then releases the committer. */
  close(): void;
  /** Commits what is queued, waiting for an asynchronous committer, then releases it. */
  closeAsync(): Promise<void>;
}

/** @internal */
export function createCommitPipeline(opts: CommitPipelineOptions): CommitPipeline {
  const { writer, committer, overflow } = opts;
  const maxBatchEvents = opts.maxBatchEvents ?? 2_000;
  const maxAsyncBatchBytes = opts.maxAsyncBatchBytes ?? 1_048_576;
  let queue: PendingWrite[] = [];
  let inFlight: Batch | undefined;
  /** True while a finished batch hands its events on: a re-entrant flush/close must not commit then. */
  let finishing = false;
  let immediate: NodeJS.Immediate | undefined;
  let closed = false;
  let enqueued = 0;
  let settled = 0;
  let flushWaiters: { target: number; resolve: () => void }[] = [];
  const fencedRuns = createFencedRuns();
  const noteFenced = (batch: Batch, sink: SinkState, runIds: Iterable<string>): void => {
    const set = batch.fenced.get(sink) ?? new Set<string>();
    batch.fenced.set(sink, set);
    for (const runId of runIds) set.add(runId);
  };

  const takeWrites = (): PendingWrite[] => {
    let size = 0;
    let count = 0;
    while (count < queue.length && size < maxBatchEvents) {
      size += queue[count]?.events.length ?? 0;
      count += 1;
    }
    const writes = queue.slice(0, count);
    queue = queue.slice(count);
    return writes;
  };

  /** Checks the next writes and hands the accepted ones to the committer; no-op while a batch is in flight. */
  const start = (): void => {
    if (inFlight !== undefined || finishing || queue.length === 0) return;
    const writes = takeWrites();
    const { prepare } = opts;
    if (prepare === undefined) {
      check(writes);
      return;
    }
    // Held as in flight while the states load, so no other batch starts and the order is kept.
    const loading: Batch = { writes, accepted: writes, refused: [], fenced: new Map(), draft: undefined, sync: false };
    inFlight = loading;
    const runIds = new Set<string>();
    for (const write of writes)
      for (const event of write.events) if (typeof event?.runId === 'string') runIds.add(event.runId);
    prepare([...runIds]).then(
      () => {
        inFlight = undefined;
        check(writes);
      },
      (error: unknown) => finish(loading, error),
    );
  };

  /** Checks the writes against the runs' state and hands the accepted ones to the committer. */
  const check = (writes: PendingWrite[]): void => {
    const draft = writer.begin();
    const batch: Batch = { writes, accepted: [], refused: [], fenced: new Map(), draft, sync: committer.sync };
    for (const write of batch.writes) {
      const lost = fencedRuns.lost(write.events);
      if (lost.length > 0) {
        batch.refused.push({ write, error: fencedError(lost) });
        noteFenced(batch, write.sink, lost);
        continue;
      }
      try {
        draft.add(write.events);
        batch.accepted.push(write);
      } catch (error) {
        // Refused before touching the database: the rest of the batch goes on.
        batch.refused.push({ write, error: toDbError(error, 'INVALID_EVENT') });
      }
    }
    if (batch.accepted.length === 0) {
      finish(batch);
      return;
    }
    inFlight = batch;
    // A big batch means the producers outran the writer thread while it committed the previous one.
    // Committing it here blocks them for its duration, as the inline writer always does; handing it to
    // the thread would let the next batch grow bigger still, without bound.
    const target = !committer.sync && overflow !== undefined && draft.bytes > maxAsyncBatchBytes ? overflow : committer;
    batch.sync = target.sync;
    target.commit(draft.build(), (error, fenced) => finish(batch, error, fenced));
  };

  const finish = (batch: Batch, error?: unknown, fenced?: ReadonlySet<string>): void => {
    inFlight = undefined;
    finishing = true;
    try {
      if (error !== undefined) {
        // The transaction rolled back: nothing of the batch is stored and the cache may be ahead of the tables.
        writer.reset();
        const failure = toDbError(error, 'WRITE_FAILED');
        for (const write of batch.accepted) {
          write.sink.stats.rejected += 1;
          write.reject(failure);
        }
      } else if (fenced === undefined || fenced.size === 0) {
        if (batch.accepted.length > 0) batch.draft?.committed();
        handOn(batch.accepted);
        for (const write of batch.accepted) write.resolve();
      } else {
        // The transaction left out the fenced runs' rows: hand on and resolve only what it stored.
        batch.draft?.committed(fenced);
        fencedRuns.add(fenced);
        const stored: PendingWrite[] = [];
        for (const write of batch.accepted) {
          const lost = runsOf(write.events).filter((runId) => fenced.has(runId));
          if (lost.length === 0) {
            stored.push(write);
            continue;
          }
          noteFenced(batch, write.sink, lost);
          batch.refused.push({ write, error: fencedError(lost) });
          // A write spanning several runs: its other runs' events are committed, so they are handed on.
          const kept = write.events.filter((event) => !fenced.has(event.runId));
          if (kept.length > 0) stored.push({ ...write, events: kept, resolve: () => {}, reject: () => {} });
        }
        handOn(stored);
        for (const write of stored) write.resolve();
      }
      for (const { write, error: refusal } of batch.refused) {
        write.sink.stats.rejected += 1;
        write.reject(refusal);
      }
      for (const [sink, runIds] of batch.fenced) report(sink, runIds);
    } finally {
      finishing = false;
      settled += batch.writes.length;
      batch.writes = [];
      batch.accepted = [];
      batch.refused = [];
      batch.fenced = new Map();
      batch.draft = undefined;
    }
    if (flushWaiters.length > 0) {
      const waiting = flushWaiters;
      flushWaiters = waiting.filter((w) => w.target > settled);
      for (const w of waiting) if (w.target <= settled) w.resolve();
    }
    if (queue.length === 0 || closed) return;
    // Someone waits for the rest: go on at once (a thread commit answers later, so this never recurses
    // deeply; inline, flush() loops itself). Otherwise take one batch per turn so a deep queue does not
    // hold the event loop, and late writes of this turn join the next transaction.
    if (flushWaiters.length > 0 && !batch.sync) start();
    else schedule();
  };

  /** onCommitted, per sink, with the events of its accepted writes in commit order. */
  const handOn = (accepted: readonly PendingWrite[]): void => {
    const bySink = new Map<SinkState, PendingWrite[]>();
    for (const write of accepted) {
      const list = bySink.get(write.sink);
      if (list === undefined) bySink.set(write.sink, [write]);
      else list.push(write);
    }
    for (const [sink, writes] of bySink) {
      const committed = writes.length === 1 ? (writes[0]?.events ?? []) : writes.flatMap((w) => w.events);
      sink.stats.transactions += 1;
      sink.stats.writes += writes.length;
      sink.stats.events += committed.length;
      if (sink.onCommitted === undefined) continue;
      try {
        sink.onCommitted(committed);
      } catch (thrown) {
        // The events are durable already; a failing subscriber must not turn them into a failed write.
        process.emitWarning(`onCommitted threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`, {
          code: 'TOOLRUN_DB_ON_COMMITTED',
        });
      }
    }
  };

  const report = (sink: SinkState, runIds: ReadonlySet<string>): void => {
    if (sink.onFenced === undefined) return;
    try {
      sink.onFenced([...runIds]);
    } catch (thrown) {
      process.emitWarning(`onFenced threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`, {
        code: 'TOOLRUN_DB_ON_FENCED',
      });
    }
  };

  const schedule = (): void => {
    immediate ??= setImmediate(() => {
      immediate = undefined;
      start();
    });
  };

  /** Commits everything queued before returning (inline committer only). */
  const drainSync = (): void => {
    while (queue.length > 0 && inFlight === undefined && !finishing) start();
  };

  const flush = (): Promise<void> => {
    if (queue.length === 0 && inFlight === undefined) return Promise.resolve();
    const promise = new Promise<void>((resolve) => flushWaiters.push({ target: enqueued, resolve }));
    if (committer.sync) drainSync();
    else start();
    return promise;
  };

  /** Rejects what is still queued, then releases the committers. */
  const release = (): void => {
    closed = true;
    // Only non-empty when close() is called from inside onCommitted.
    for (const write of queue)
      write.reject(new DbError('CLOSED', 'the database was closed before this write committed'));
    settled += queue.length;
    queue = [];
    for (const w of flushWaiters.splice(0)) w.resolve();
    if (immediate !== undefined) clearImmediate(immediate);
    immediate = undefined;
    committer.close();
    overflow?.close();
  };

  return {
    createSink(sinkOpts = {}) {
      const sink: SinkState = {
        onCommitted: sinkOpts.onCommitted,
        onFenced: sinkOpts.onFenced,
        stats: { writes: 0, rejected: 0, events: 0, transactions: 0 },
      };
      return {
        write(events) {
          if (closed) return Promise.reject(new DbError('CLOSED', 'the persistent sink is closed'));
          if (events.length === 0) return Promise.resolve();
          return new Promise<void>((resolve, reject) => {
            queue.push({ sink, events, resolve, reject });
            enqueued += 1;
            schedule();
          });
        },
        flush,
        stats: () => ({ ...sink.stats }),
      };
    },
    unfence(runIds) {
      fencedRuns.remove(runIds);
    },
    close() {
      if (closed) return;
      if (!finishing) {
        committer.settleSync();
        while (queue.length > 0 && !finishing) {
          start();
          committer.settleSync();
        }
      }
      release();
    },
    async closeAsync() {
      if (closed) return;
      if (!finishing) {
        // Writes may keep arriving while the last ones commit: flush until nothing is left.
        for (let rounds = 0; rounds < 1_000 && (queue.length > 0 || inFlight !== undefined); rounds += 1) await flush();
      }
      release();
    },
  };
}
