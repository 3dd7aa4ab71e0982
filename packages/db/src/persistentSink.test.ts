import type { RunEvent } from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../test/backends.ts';
import { collectGarbage, makeRun, RunBuilder, writeInChunks } from '../test/fixtures.ts';
import type { DbErrorCode } from './errors.ts';

const [sqlite, postgres] = BACKENDS as [Backend, Backend];

// Every behaviour holds on PostgreSQL and on SQLite, whether SQLite commits on its writer thread
// (the default) or inline.
describe.each([
  { name: 'sqlite, thread writer', backend: sqlite, writer: 'thread' as const },
  { name: 'sqlite, inline writer', backend: sqlite, writer: 'inline' as const },
  { name: 'postgres', backend: postgres, writer: undefined },
])('persistent sink on $name', ({ backend, writer }) => {
  async function open(onCommitted?: (events: readonly RunEvent[]) => void) {
    const db = await backend.open(undefined, writer === undefined ? {} : { writer });
    const sink = db.createPersistentSink(onCommitted === undefined ? {} : { onCommitted });
    return { db, sink, path: db.location };
  }
  const countEvents = (path: string) => backend.count(path, 'run_events');

  it('commits before onCommitted hands events on, and resolves write() only after the commit', async () => {
    const seenByOtherConnection: Promise<number>[] = [];
    const order: string[] = [];
    const { sink, path } = await open((events) => {
      // Another connection sees the rows: they are committed, not merely written in our transaction.
      seenByOtherConnection.push(countEvents(path));
      order.push(`committed ${events.length}`);
    });
    const events = makeRun({ runId: 'run-1', userId: 'u1' });
    const written = sink.write(events).then(() => order.push('resolved'));
    // SQLite counts synchronously, before the commit's turn; a PostgreSQL count is a round trip that
    // races the commit (it failed so on a loaded machine), so there only the order below is checked.
    if (backend.name === 'sqlite') expect(await countEvents(path)).toBe(0);
    await written;
    expect(await Promise.all(seenByOtherConnection)).toEqual([events.length]);
    expect(order).toEqual([`committed ${events.length}`, 'resolved']);
  });

  it('group-commits concurrent runs into fewer transactions than writes, keeping each run in seq order', async () => {
    const batches: (readonly RunEvent[])[] = [];
    const { db, sink } = await open((events) => batches.push(events));
    const runs = Array.from({ length: 120 }, (_, i) =>
      makeRun({ runId: `run-${i}`, userId: `user-${i % 7}`, toolCalls: 1 + (i % 4), thinking: i % 3 }),
    );
    await Promise.all(runs.map((events, i) => writeInChunks(sink, events, 3, i)));
    const stats = sink.stats();
    expect(stats.rejected).toBe(0);
    expect(stats.events).toBe(runs.flat().length);
    expect(stats.transactions).toBe(batches.length);
    expect(stats.transactions).toBeLessThan(stats.writes / 10);
    for (const events of runs) {
      const runId = events[0]?.runId ?? '';
      expect(await db.eventsAfter(runId, 0)).toEqual(events);
      // Delivery order matches: each run's events reach onCommitted in seq order.
      expect(batches.flat().filter((e) => e.runId === runId)).toEqual(events);
    }
  });

  it('derives run and tool-call rows from the events in the same transaction', async () => {
    const { db, sink } = await open();
    const run = new RunBuilder({ runId: 'run-rows', userId: 'u1', startMs: Date.UTC(2026, 1, 1) });
    run.started('calculator', { expr: '1+1' });
    const a = run.toolExecuting('add', { a: 1 });
    const b = run.toolExecuting('mul', { b: 2 });
    await sink.write(run.events.slice());
    expect(await db.getRunRecord('run-rows')).toMatchObject({
      status: 'running',
      toolCalls: 2,
      lastSeq: 3,
      finishedAt: null,
    });
    const before = run.events.length;
    run.toolCompleted(b, 'timeout');
    run.toolCompleted(a, 'success', 2);
    run.completed('completed', 2);
    await sink.write(run.events.slice(before));
    const detail = await db.getRun('run-rows');
    expect(detail?.run).toMatchObject({
      agent: 'calculator',
      input: { expr: '1+1' },
      status: 'completed',
      result: 2,
      error: null,
      toolCalls: 2,
      lastSeq: 6,
      startedAt: '2026-02-01T00:00:00.000Z',
      finishedAt: '2026-02-01T00:00:00.005Z',
    });
    expect(detail?.events).toEqual(run.events);
    expect(detail?.toolCalls).toMatchObject([
      { callId: a, tool: 'add', status: 'success', output: 2, error: null, startSeq: 2, endSeq: 5 },
      {
        callId: b,
        tool: 'mul',
        status: 'timeout',
        output: null,
        error: { code: 'TOOL_FAILED' },
        startSeq: 3,
        endSeq: 4,
      },
    ]);
  });

  describe('refuses a write that would break the run, storing none of it', () => {
    const cases: { name: string; code: DbErrorCode; bad: (run: RunBuilder, done: RunEvent[]) => RunEvent[] }[] = [
      {
        name: 'a gap in seq',
        code: 'OUT_OF_ORDER',
        bad: (run) => {
          run.thinking();
          return [run.thinking()];
        },
      },
      { name: 'a duplicate seq', code: 'OUT_OF_ORDER', bad: (_run, done) => done.slice(1) },
      {
        name: 'a new run whose first event is not agent_started',
        code: 'INVALID_EVENT',
        bad: () => {
          const other = new RunBuilder({ runId: 'other', userId: 'u1' });
          return [{ ...other.thinking(), seq: 1, id: 'other:1' }];
        },
      },
      {
        name: 'another user on the same run',
        code: 'INVALID_EVENT',
        bad: (run) => [{ ...run.thinking(), userId: 'intruder' }],
      },
      { name: 'an id that is not runId:seq', code: 'INVALID_EVENT', bad: (run) => [{ ...run.thinking(), id: 'r:99' }] },
      {
        name: 'tool_completed without its tool_executing',
        code: 'INVALID_EVENT',
        bad: (run) => {
          const id = run.toolExecuting();
          run.events.pop();
          return [{ ...run.toolCompleted(id), seq: 3, id: 'r:3' }];
        },
      },
      {
        name: 'agent_completed with a tool call still open',
        code: 'INVALID_EVENT',
        bad: (run) => {
          run.toolExecuting();
          return run.events.slice(2).concat([run.completed()]);
        },
      },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.code}`, async () => {
        const { db, sink } = await open();
        const run = new RunBuilder({ runId: 'r', userId: 'u1' });
        run.started();
        run.thinking();
        const done = run.events.slice();
        await sink.write(done);
        const bad = c.bad(run, done);
        await expect(sink.write(bad)).rejects.toMatchObject({ name: 'DbError', code: c.code });
        expect(await db.eventsAfter('r', 0)).toEqual(done);
        expect(await db.getRunRecord('r')).toMatchObject({ lastSeq: 2, toolCalls: 0, status: 'running' });
        expect((await db.getRun('r'))?.toolCalls).toEqual([]);
      });
    }

    it('anything after agent_completed → RUN_FINISHED', async () => {
      const { sink } = await open();
      const run = new RunBuilder({ runId: 'r', userId: 'u1' });
      run.started();
      run.completed();
      await sink.write(run.events);
      await expect(sink.write([run.thinking()])).rejects.toMatchObject({ code: 'RUN_FINISHED' });
    });
  });

  it('a refused write fails alone: the other writes of its transaction commit', async () => {
    const { db, sink } = await open();
    const good = makeRun({ runId: 'good', userId: 'u1' });
    const bad = makeRun({ runId: 'bad', userId: 'u2' }).slice(1);
    const results = await Promise.allSettled([sink.write(good), sink.write(bad)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(sink.stats()).toMatchObject({ transactions: 1, writes: 1, rejected: 1 });
    expect(await db.eventsAfter('good', 0)).toEqual(good);
    expect(await db.getRunRecord('bad')).toBeUndefined();
  });

  it('a statement failing mid-transaction rolls back the whole batch, and the same writes succeed when retried', async () => {
    const { db, sink, path } = await open();
    const a = new RunBuilder({ runId: 'a', userId: 'u1' });
    const b = new RunBuilder({ runId: 'b', userId: 'u2' });
    await Promise.all([sink.write([a.started()]), sink.write([b.started()])]);
    // A real failure inside the transaction (standing in for disk full / I/O error).
    await backend.breakInsertsOf(path, '"text":"boom"');
    const aNext = [a.thinking('fine'), a.thinking('also fine')];
    const bNext = [b.thinking('boom')];
    const results = await Promise.allSettled([sink.write(aNext), sink.write(bNext)]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok'))).toEqual([
      'WRITE_FAILED',
      'WRITE_FAILED',
    ]);
    expect(await db.eventsAfter('a', 0)).toHaveLength(1);
    expect((await db.getRunRecord('a'))?.lastSeq).toBe(1);
    await backend.repairInserts(path);
    // The cached state was dropped with the rollback, so seq 2 is expected again, not seq 4.
    await Promise.all([sink.write(aNext), sink.write(bNext)]);
    expect(await db.eventsAfter('a', 0)).toEqual([...a.events]);
    expect((await db.getRunRecord('b'))?.lastSeq).toBe(2);
  });

  it('lets go of a committed write even while an error created in onCommitted lives on (its stack reaches the commit frames)', async () => {
    // The hub fails a slow subscriber from inside onCommitted and keeps that error: its captured stack
    // holds the frames' closures and receivers, which must not hold the committed events or their rows.
    const kept: Error[] = [];
    const { db, sink } = await open(() => {
      kept.push(new Error('kept, like a SLOW_CONSUMER error'));
    });
    const run = new RunBuilder({ runId: 'r', userId: 'u1' });
    let write: RunEvent[] | undefined = [run.started(), run.thinking('x'.repeat(2_000))];
    const written = new WeakRef(write);
    await sink.write(write);
    write = undefined;
    await new Promise((resolve) => setTimeout(resolve, 0));
    collectGarbage();
    expect(kept).toHaveLength(1);
    expect(written.deref()).toBeUndefined();
    expect((await db.getRunRecord('r'))?.lastSeq).toBe(2);
  });

  it('flush() commits at once, and close() commits what is pending', async () => {
    const { db, sink, path } = await open();
    const first = makeRun({ runId: 'r1', userId: 'u1' });
    const written = sink.write(first);
    await sink.flush();
    expect(await countEvents(path)).toBe(first.length);
    await written;
    const second = makeRun({ runId: 'r2', userId: 'u1' });
    const pending = sink.write(second);
    await db.close();
    expect(await countEvents(path)).toBe(first.length + second.length);
    await pending;
    await expect(sink.write(makeRun({ runId: 'r3', userId: 'u1' }))).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
