import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/backends.ts';
import { RunBuilder } from '../../test/fixtures.ts';
import type { IdempotencyRecord } from './idempotencyKeys.ts';

const record = (over: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  userId: 'alice',
  key: 'k-1',
  fingerprint: 'f-1',
  runId: 'run-1',
  threadId: 'thread-1',
  createdAt: 1_000,
  ...over,
});

describe.each(BACKENDS)('idempotency keys on $name', (backend) => {
  it('lets the first claim of a key win and hands the winner back to every later claim, per user', async () => {
    const db = await backend.open(undefined, { writer: 'inline' });
    expect(await db.idempotencyKeys.claim(record(), 0)).toEqual({ claimed: true });
    const again = await db.idempotencyKeys.claim(record({ runId: 'run-2', fingerprint: 'f-2' }), 0);
    expect(again).toEqual({ claimed: false, existing: record() });
    // Another user's key of the same name is theirs alone.
    expect(await db.idempotencyKeys.claim(record({ userId: 'bob', runId: 'run-3' }), 0)).toEqual({ claimed: true });
  });

  it('lets exactly one of many concurrent claims of one key win, the others seeing the winner', async () => {
    const location = await backend.fresh();
    // Two handles: on PostgreSQL two leases, as two processes would hold.
    const [a, b] = [await backend.open(location), await backend.open(location)];
    const claims = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 === 0 ? a : b).idempotencyKeys.claim(record({ runId: `run-${i}`, fingerprint: `f-${i}` }), 0),
      ),
    );
    const winners = claims.flatMap((c, i) => (c.claimed ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const c of claims) if (!c.claimed) expect(c.existing.runId).toBe(`run-${winners[0]}`);
  });

  it('treats an expired key as free, releases only the run it names, and prunes old keys', async () => {
    const db = await backend.open();
    await db.idempotencyKeys.claim(record(), 0);
    expect(await db.idempotencyKeys.claim(record({ runId: 'run-2', createdAt: 9_000 }), 5_000)).toEqual({
      claimed: true,
    });
    await db.idempotencyKeys.release('alice', 'k-1', 'run-1');
    expect(await db.idempotencyKeys.claim(record({ runId: 'run-3' }), 0)).toMatchObject({ claimed: false });
    await db.idempotencyKeys.release('alice', 'k-1', 'run-2');
    expect(await db.idempotencyKeys.claim(record({ runId: 'run-4', createdAt: 9_000 }), 0)).toEqual({ claimed: true });
    expect(await db.idempotencyKeys.prune(10_000)).toBe(1);
    expect(await db.idempotencyKeys.claim(record({ runId: 'run-5' }), 0)).toEqual({ claimed: true });
  });

  it('keeps keys across a reopen', async () => {
    const location = await backend.fresh();
    const first = await backend.open(location);
    await first.idempotencyKeys.claim(record(), 0);
    await first.close();
    const db = await backend.open(location);
    expect(await db.idempotencyKeys.claim(record({ runId: 'run-2' }), 0)).toMatchObject({
      existing: { runId: 'run-1' },
    });
  });
});

describe.each(BACKENDS)('queued runs on $name', (backend) => {
  it('keeps runs in order of arrival across a reopen, and deletes them one by one', async () => {
    const location = await backend.fresh();
    const first = await backend.open(location);
    const queued = queuedRun;
    for (const [runId, userId] of [
      ['r1', 'alice'],
      ['r2', 'bob'],
      ['r3', 'alice'],
    ] as const) {
      await first.queuedRuns.insert(queued(runId, userId));
    }
    await first.close();
    const db = await backend.open(location);
    expect((await db.queuedRuns.all()).map((r) => r.runId)).toEqual(['r1', 'r2', 'r3']);
    expect(await db.queuedRuns.delete('r2')).toBe(true);
    expect(await db.queuedRuns.delete('r2')).toBe(false);
    expect(await db.queuedRuns.all()).toEqual([
      { ...queued('r1', 'alice'), takenBy: null },
      { ...queued('r3', 'alice'), takenBy: null },
    ]);
  });

  it('answers one run by id, taken or not, and nothing for a run it does not hold', async () => {
    const db = await backend.open();
    await db.queuedRuns.insert(queuedRun('r1', 'alice'));
    await db.queuedRuns.insert(queuedRun('r2', 'bob'));
    expect(await db.queuedRuns.get('r2')).toEqual({ ...queuedRun('r2', 'bob'), takenBy: null });
    expect(await db.queuedRuns.get('nope')).toBeUndefined();
    expect(await db.queuedRuns.take('r2')).toBe(true);
    expect((await db.queuedRuns.get('r2'))?.takenBy).not.toBeNull();
    await db.queuedRuns.delete('r2');
    expect(await db.queuedRuns.get('r2')).toBeUndefined();
  });

  it('lets exactly one of many concurrent takes of a run win, never a taken or missing one, and takes back only on untake', async () => {
    const location = await backend.fresh();
    // Two handles: on PostgreSQL two leases, as two workers would hold.
    const [a, b] = [await backend.open(location), await backend.open(location)];
    await a.queuedRuns.insert(queuedRun('r1', 'alice'));
    const takes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).queuedRuns.take('r1')));
    expect(takes.filter(Boolean)).toHaveLength(1);
    expect(await a.queuedRuns.take('r1')).toBe(false);
    expect(await a.queuedRuns.take('missing')).toBe(false);
    // Given back, it can be taken again (once).
    const winner = takes.indexOf(true) % 2 === 0 ? a : b;
    await winner.queuedRuns.untake('r1');
    expect((await a.queuedRuns.get('r1'))?.takenBy).toBeNull();
    expect(await b.queuedRuns.take('r1')).toBe(true);
    expect(await a.queuedRuns.take('r1')).toBe(false);
  });

  it('claims the whole queue at start when nobody else owns it (every row on SQLite; on PostgreSQL its own and dead owners’ rows)', async () => {
    const location = await backend.fresh();
    const first = await backend.open(location);
    for (const runId of ['r1', 'r2', 'r3']) await first.queuedRuns.insert(queuedRun(runId, 'alice'));
    // The process that queued them restores them (a restart of the same process keeps its rows).
    expect((await first.queuedRuns.claim()).map((r) => r.runId)).toEqual(['r1', 'r2', 'r3']);
    await first.close();
    // Its successor (SQLite: the same file's next process; PostgreSQL: the first one's lease is gone) takes them all.
    const next = await backend.open(location);
    expect(await next.queuedRuns.claim()).toEqual([
      queuedRun('r1', 'alice'),
      queuedRun('r2', 'alice'),
      queuedRun('r3', 'alice'),
    ]);
  });
});

describe.each(BACKENDS.filter((b) => b.name === 'postgres'))('taken queued runs on $name', (backend) => {
  it('takes over a run a dead or stalled process took before its run began, once, and never a run that began', async () => {
    const location = await backend.fresh();
    const [worker, sweeper, other] = [
      await backend.open(location),
      await backend.open(location),
      await backend.open(location),
    ];
    for (const runId of ['r1', 'r2']) await worker.queuedRuns.insert(queuedRun(runId, 'alice'));
    expect(await worker.queuedRuns.take('r1')).toBe(true);
    expect(await worker.queuedRuns.take('r2')).toBe(true);
    // Its taker lives and took them just now: nobody else's.
    expect(await sweeper.queuedRuns.takeLost(60_000)).toEqual([]);
    // r2's run began (its runs row exists): the reaper's business, not this one's.
    await backend.sql(
      location,
      `INSERT INTO runs (id, user_id, thread_id, agent, input, status, started_at, last_seq, tool_calls, owner)
       VALUES ('r2', 'alice', 't-r2', 'echo', '{}', 'running', 1, 1, 0, 0)`,
    );
    // Stalled: taken longer ago than the limit. Exactly one of two concurrent sweepers gets it (the
    // loser re-checks the row the winner took a moment ago: not stale).
    await new Promise((resolve) => setTimeout(resolve, 600));
    const [mine, theirs] = await Promise.all([sweeper.queuedRuns.takeLost(300), other.queuedRuns.takeLost(300)]);
    expect([...mine, ...theirs].map((row) => row.runId)).toEqual(['r1']);
    // A dead taker's rows too, however recent.
    await worker.queuedRuns.insert(queuedRun('r3', 'alice'));
    expect(await worker.queuedRuns.take('r3')).toBe(true);
    await worker.close();
    expect((await sweeper.queuedRuns.takeLost(60_000)).map((row) => row.runId)).toEqual(['r3']);
  });

  // A worker under load may hold a run it took for longer than the lease before its first commit (its
  // commits queue behind others'). Only a dead or stalled taker's run may be taken over: a live worker
  // renews the takes it works on (every third of the lease), a stalled one does not.
  it('keeps a take its taker renews past the lease, takes over one not renewed (renewing another’s take does nothing), and refuses the stalled taker’s late start whole', async () => {
    const location = await backend.fresh();
    const [live, stalled, sweeper] = [
      await backend.open(location, { runLeaseMs: 1_000 }),
      await backend.open(location, { runLeaseMs: 1_000 }),
      await backend.open(location, { runLeaseMs: 1_000 }),
    ];
    for (const runId of ['r-live', 'r-stalled']) await live.queuedRuns.insert(queuedRun(runId, 'alice'));
    expect(await live.queuedRuns.take('r-live')).toBe(true);
    expect(await stalled.queuedRuns.take('r-stalled')).toBe(true);
    for (let i = 0; i < 9; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 333));
      await live.queuedRuns.renew(['r-live', 'r-stalled', 'r-missing']);
    }
    expect((await sweeper.queuedRuns.takeLost(1_000)).map((row) => row.runId)).toEqual(['r-stalled']);
    expect((await sweeper.queuedRuns.get('r-live'))?.takenBy).not.toBeNull();

    // The sweeper ends the stalled run (as sweepQueuedRuns does: a start and an interrupted end).
    const ended = new RunBuilder({ runId: 'r-stalled', userId: 'alice', startMs: Date.now() });
    ended.started();
    ended.completed('interrupted');
    await sweeper.createPersistentSink().write(ended.events);
    // The stalled taker resumes and starts the run it took: its first write is refused whole (the run
    // exists, another process's: out of order, or fenced had its start been on its way), which fails its
    // run closed (SINK_FAILED) in the dispatcher; nothing of the late run is stored, no second start.
    const late = new RunBuilder({ runId: 'r-stalled', userId: 'alice', startMs: Date.now() });
    late.started();
    late.thinking('too late');
    const refused = await stalled
      .createPersistentSink()
      .write(late.events)
      .then(
        () => 'stored',
        (error: unknown) => (error as { code?: string }).code,
      );
    expect(['OUT_OF_ORDER', 'RUN_FINISHED']).toContain(refused);
    expect(await sweeper.eventsAfter('r-stalled', 0)).toEqual(ended.events);

    // The live taker's first commit, however late, begins its run as usual; nothing is lost then.
    const begun = new RunBuilder({ runId: 'r-live', userId: 'alice', startMs: Date.now() });
    begun.started();
    await live.createPersistentSink().write(begun.events);
    expect(await sweeper.eventsAfter('r-live', 0)).toEqual(begun.events);
    expect(await sweeper.queuedRuns.takeLost(1_000)).toEqual([]);
  }, 60_000);
});

/** A queued run's record. */
function queuedRun(runId: string, userId: string) {
  return {
    runId,
    userId,
    threadId: `t-${runId}`,
    roles: '["user"]',
    agent: 'echo',
    input: '{"text":"hi"}',
    enqueuedAt: 1,
    deadlineAt: 2,
    traceContext: null,
  };
}
