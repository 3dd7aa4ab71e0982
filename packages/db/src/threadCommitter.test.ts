import type { RunEvent } from '@toolrun/dispatcher';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { countEvents, makeRun, RunBuilder, tempDb } from '../test/fixtures.ts';
import { openDatabase } from './client.ts';
import type { Committer } from './committer.ts';
import { createThreadCommitter } from './threadCommitter.ts';
import type { WriteBatch } from './writeBatch.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
function open(opts: { busyTimeoutMs?: number } = {}) {
  const t = tempDb();
  const db = openDatabase({ path: t.path, writer: 'thread', ...opts });
  cleanups.push(() => {
    db.closeSync();
    t.cleanup();
  });
  return { db, path: t.path };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the writer thread', () => {
  it('commits off the event loop: while its transaction waits for the lock, timers run and reads answer', async () => {
    const { db, path } = open();
    const sink = db.createPersistentSink();
    const run = new RunBuilder({ runId: 'r', userId: 'u1' });
    await sink.write([run.started()]);
    // Another connection holds the write lock: the writer thread's BEGIN IMMEDIATE waits for it.
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    let settled = false;
    const pending = sink.write([run.thinking()]).then(() => {
      settled = true;
    });
    let turns = 0;
    for (let i = 0; i < 20; i += 1) {
      await tick();
      turns += 1;
    }
    // Inline, the event loop would have been stuck in busy_timeout; here it turned and reads work (WAL).
    expect(turns).toBe(20);
    expect(settled).toBe(false);
    expect((await db.getRunRecord('r'))?.lastSeq).toBe(1);
    blocker.exec('COMMIT');
    blocker.close();
    await pending;
    expect((await db.getRunRecord('r'))?.lastSeq).toBe(2);
  });

  it('hands batches on in commit order, each before its writes resolve, and reads see every acknowledged commit', async () => {
    const { db } = open();
    const log: string[] = [];
    const seenInHandOn: Promise<number>[] = [];
    const sink = db.createPersistentSink({
      onCommitted: (events) => {
        log.push(`committed ${events.map((e) => e.runId).join(',')}`);
        // This thread's connection already sees the rows the writer thread committed.
        // (SQLite's reads run synchronously inside their promise: this is what the connection sees now.)
        seenInHandOn.push(
          Promise.all(events.map(async (e) => (await db.eventsAfter(e.runId, e.seq - 1, 1))[0]?.id === e.id)).then(
            (seen) => seen.filter(Boolean).length,
          ),
        );
      },
    });
    // 3,000 single-event writes in one tick: more than one transaction holds (2,000 events), so several batches.
    const runs = Array.from({ length: 3_000 }, (_, i) => new RunBuilder({ runId: `r${i}`, userId: `u${i % 9}` }));
    await Promise.all(runs.map((run) => sink.write([run.started()]).then(() => log.push(`resolved ${run.runId}`))));
    const batches = log.filter((line) => line.startsWith('committed '));
    expect(batches.length).toBeGreaterThan(1);
    expect((await Promise.all(seenInHandOn)).reduce((a, b) => a + b, 0)).toBe(3_000);
    // Commit order is write order, and every write resolves after the batch that committed it was handed on.
    const committedOrder = batches.flatMap((line) => line.slice('committed '.length).split(','));
    expect(committedOrder).toEqual(runs.map((run) => run.runId));
    for (const run of runs) {
      const handedOn = log.findIndex((line) => line.startsWith('committed ') && line.split(/[ ,]/).includes(run.runId));
      expect(log.indexOf(`resolved ${run.runId}`)).toBeGreaterThan(handedOn);
    }
    const feed = await db.feedAfter({ userId: null });
    expect(feed.map((e) => e.runId)).toEqual(committedOrder);
  });

  it('flush() resolves only once the writes before it are committed, in flight or queued', async () => {
    const { db, path } = open();
    const sink = db.createPersistentSink();
    const first = makeRun({ runId: 'a', userId: 'u1' });
    const second = makeRun({ runId: 'b', userId: 'u1' });
    const writes = [sink.write(first)];
    // The first batch goes to the thread at once; the second is queued behind it.
    const flushedEarly = sink.flush();
    writes.push(sink.write(second));
    await flushedEarly;
    expect(countEvents(path)).toBeGreaterThanOrEqual(first.length);
    await sink.flush();
    expect(countEvents(path)).toBe(first.length + second.length);
    await Promise.all(writes);
    await expect(sink.flush()).resolves.toBeUndefined();
  });

  it('close() waits for the batch in flight and commits the queue before returning; later writes are CLOSED', async () => {
    const { db, path } = open();
    const committed: RunEvent[] = [];
    const sink = db.createPersistentSink({ onCommitted: (events) => committed.push(...events) });
    const first = makeRun({ runId: 'a', userId: 'u1', toolCalls: 2 });
    const second = makeRun({ runId: 'b', userId: 'u2' });
    const inFlight = sink.write(first);
    void sink.flush(); // sends the first batch to the thread now
    const queued = sink.write(second);
    db.closeSync();
    expect(committed).toEqual([...first, ...second]);
    expect(countEvents(path)).toBe(first.length + second.length);
    await Promise.all([inFlight, queued]);
    await expect(sink.write(makeRun({ runId: 'c', userId: 'u1' }))).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(db.getRunRecord('a')).rejects.toMatchObject({ code: 'CLOSED' });
    // Both connections closed: the last close checkpointed the WAL into the file.
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT count(*) FROM runs').pluck().get()).toBe(2);
    raw.close();
  });

  it('refuses bad writes on the main thread exactly as inline, without costing the batch a transaction', async () => {
    const { db } = open();
    const sink = db.createPersistentSink();
    const run = new RunBuilder({ runId: 'r', userId: 'u1' });
    await sink.write([run.started()]);
    const gap = [{ ...run.thinking(), seq: 5, id: 'r:5' }];
    await expect(sink.write(gap)).rejects.toMatchObject({ name: 'DbError', code: 'OUT_OF_ORDER' });
    expect(sink.stats()).toMatchObject({ transactions: 1, writes: 1, rejected: 1 });
    expect((await db.getRunRecord('r'))?.lastSeq).toBe(1);
  });

  it('fails the whole transaction when SQLite does, then accepts the same writes again', async () => {
    const { db, path } = open({ busyTimeoutMs: 50 });
    const sink = db.createPersistentSink();
    const run = new RunBuilder({ runId: 'r', userId: 'u1' });
    await sink.write([run.started()]);
    const next = [run.thinking(), run.thinking()];
    // The lock stays taken past busy_timeout: the writer thread's transaction fails (SQLITE_BUSY).
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    await expect(sink.write(next)).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    blocker.exec('ROLLBACK');
    blocker.close();
    expect((await db.getRunRecord('r'))?.lastSeq).toBe(1);
    await sink.write(next);
    expect(await db.eventsAfter('r', 0)).toEqual(run.events);
  });

  it('bounds the backlog: a batch over 1 MiB of text is committed on this thread, holding the producers as inline does', async () => {
    const { db, path } = open({ busyTimeoutMs: 500 });
    const sink = db.createPersistentSink();
    const run = new RunBuilder({ runId: 'r', userId: 'u1' });
    await sink.write([run.started()]);
    const blocker = new Database(path);
    cleanups.push(() => blocker.close());
    /** Holds the write lock until this thread's event loop has turned 20 times, then lets go. */
    const holdLockFor20Turns = async (): Promise<void> => {
      blocker.exec('BEGIN IMMEDIATE');
      for (let i = 0; i < 20; i += 1) await tick();
      blocker.exec('ROLLBACK');
    };
    // Under the bound, the thread waits for the lock while the event loop turns and releases it.
    const small = [run.thinking('x'.repeat(1_000))];
    await Promise.all([holdLockFor20Turns(), sink.write(small)]);
    // Over it (600 events of 2,000 characters), the commit blocks this thread: the loop cannot turn
    // to release the lock, so the transaction times out (busy_timeout) as an inline one would.
    const big = Array.from({ length: 600 }, () => run.thinking('y'.repeat(2_000)));
    const [, outcome] = await Promise.allSettled([holdLockFor20Turns(), sink.write(big)]);
    expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'WRITE_FAILED' } });
    expect((await db.getRunRecord('r'))?.lastSeq).toBe(2);
    // Commits on this thread and on the writer thread then follow each other on the same file.
    await sink.write(big);
    const after = [run.thinking('after'), run.completed()];
    await sink.write(after);
    expect(await db.eventsAfter('r', 0)).toEqual(run.events);
    expect(await db.getRunRecord('r')).toMatchObject({ status: 'completed', lastSeq: 2 + big.length + after.length });
  });

  it('is not used for :memory: databases, which a thread cannot share', async () => {
    const db = openDatabase({ path: ':memory:', writer: 'thread' });
    try {
      const sink = db.createPersistentSink();
      const events = makeRun({ runId: 'm', userId: 'u1' });
      await sink.write(events);
      expect(await db.eventsAfter('m', 0)).toEqual(events);
    } finally {
      db.closeSync();
    }
  });
});

describe('createThreadCommitter', () => {
  it('when the thread cannot open the file, fails the batch in flight and commits later ones through the fallback', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const fallbackBatches: WriteBatch[] = [];
    // A recording stand-in for the inline committer: the thread's own failure path is what is under test.
    const fallback: Committer = {
      sync: true,
      commit: (batch, done) => {
        fallbackBatches.push(batch);
        done();
      },
      settleSync: () => {},
      close: () => {},
    };
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(String(warning.code));
    process.on('warning', onWarning);
    const committer = createThreadCommitter({
      path: `${t.dir}/missing.db`,
      busyTimeoutMs: 100,
      fallback: () => fallback,
    });
    try {
      const batch: WriteBatch = { runs: [], events: [], callStarts: [], callEnds: [], runUpdates: [], runFinishes: [] };
      const first = await new Promise<unknown>((resolve) => committer.commit(batch, resolve));
      expect(first).toBeInstanceOf(Error);
      const second = await new Promise<unknown>((resolve) => committer.commit(batch, resolve));
      expect(second).toBeUndefined();
      expect(fallbackBatches).toEqual([batch]);
      await tick();
      expect(warnings).toContain('TOOLRUN_DB_WRITER_THREAD');
    } finally {
      committer.close();
      process.off('warning', onWarning);
    }
  });
});
