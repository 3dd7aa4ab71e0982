import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/backends.ts';
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
    expect(await db.queuedRuns.all()).toEqual([queued('r1', 'alice'), queued('r3', 'alice')]);
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
  };
}
