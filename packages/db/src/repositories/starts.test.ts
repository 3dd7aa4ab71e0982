import { afterEach, describe, expect, it } from 'vitest';
import { tempDb } from '../../test/fixtures.ts';
import { openDatabase } from '../client.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
function open(path?: string) {
  const t = path === undefined ? tempDb() : { path, cleanup: () => {} };
  const db = openDatabase({ path: t.path, writer: 'inline' });
  cleanups.push(() => {
    db.close();
    t.cleanup();
  });
  return { db, path: t.path };
}

const record = (over: Partial<Parameters<ReturnType<typeof openDatabase>['idempotencyKeys']['claim']>[0]> = {}) => ({
  userId: 'alice',
  key: 'k-1',
  fingerprint: 'f-1',
  runId: 'run-1',
  threadId: 'thread-1',
  createdAt: 1_000,
  ...over,
});

describe('idempotency keys', () => {
  it('lets the first claim of a key win and hands the winner back to every later claim, per user', () => {
    const { db } = open();
    expect(db.idempotencyKeys.claim(record(), 0)).toEqual({ claimed: true });
    const again = db.idempotencyKeys.claim(record({ runId: 'run-2', fingerprint: 'f-2' }), 0);
    expect(again).toEqual({ claimed: false, existing: record() });
    // Another user's key of the same name is theirs alone.
    expect(db.idempotencyKeys.claim(record({ userId: 'bob', runId: 'run-3' }), 0)).toEqual({ claimed: true });
  });

  it('treats an expired key as free, releases only the run it names, and prunes old keys', () => {
    const { db } = open();
    db.idempotencyKeys.claim(record(), 0);
    expect(db.idempotencyKeys.claim(record({ runId: 'run-2', createdAt: 9_000 }), 5_000)).toEqual({ claimed: true });
    db.idempotencyKeys.release('alice', 'k-1', 'run-1');
    expect(db.idempotencyKeys.claim(record({ runId: 'run-3' }), 0)).toMatchObject({ claimed: false });
    db.idempotencyKeys.release('alice', 'k-1', 'run-2');
    expect(db.idempotencyKeys.claim(record({ runId: 'run-4', createdAt: 9_000 }), 0)).toEqual({ claimed: true });
    expect(db.idempotencyKeys.prune(10_000)).toBe(1);
    expect(db.idempotencyKeys.claim(record({ runId: 'run-5' }), 0)).toEqual({ claimed: true });
  });

  it('keeps keys across a reopen of the file', () => {
    const first = open();
    first.db.idempotencyKeys.claim(record(), 0);
    first.db.close();
    const { db } = open(first.path);
    expect(db.idempotencyKeys.claim(record({ runId: 'run-2' }), 0)).toMatchObject({ existing: { runId: 'run-1' } });
  });
});

describe('queued runs', () => {
  it('keeps runs in order of arrival across a reopen, and deletes them one by one', () => {
    const first = open();
    const queued = (runId: string, userId: string) => ({
      runId,
      userId,
      threadId: `t-${runId}`,
      roles: '["user"]',
      agent: 'echo',
      input: '{"text":"hi"}',
      enqueuedAt: 1,
      deadlineAt: 2,
    });
    for (const [runId, userId] of [
      ['r1', 'alice'],
      ['r2', 'bob'],
      ['r3', 'alice'],
    ] as const) {
      first.db.queuedRuns.insert(queued(runId, userId));
    }
    first.db.close();
    const { db } = open(first.path);
    expect(db.queuedRuns.all().map((r) => r.runId)).toEqual(['r1', 'r2', 'r3']);
    expect(db.queuedRuns.delete('r2')).toBe(true);
    expect(db.queuedRuns.delete('r2')).toBe(false);
    expect(db.queuedRuns.all()).toEqual([queued('r1', 'alice'), queued('r3', 'alice')]);
  });
});
