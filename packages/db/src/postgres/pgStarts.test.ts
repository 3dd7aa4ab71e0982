import { describe, expect, it } from 'vitest';
import { useTestPostgres } from '../../test/support/useTestPostgres.ts';
import { openStorage } from '../openStorage.ts';

const postgres = useTestPostgres();

function queuedRun(runId: string) {
  return {
    runId,
    userId: 'alice',
    threadId: `t-${runId}`,
    roles: '["user"]',
    agent: 'echo',
    input: '{}',
    enqueuedAt: 1,
    deadlineAt: 2,
    traceContext: null,
  };
}

describe('PostgreSQL queued runs with several processes', () => {
  it('a process claims only its own and dead processes’ rows, and two claiming at once never share one', async () => {
    const url = await postgres.server.createDatabase();
    const open = async () => postgres.track(await openStorage({ location: url }));
    const [a, b] = [await open(), await open()];
    for (const runId of ['a1', 'a2', 'a3', 'a4']) await a.queuedRuns.insert(queuedRun(runId));
    await b.queuedRuns.insert(queuedRun('b1'));

    // Both alive: each restores its own queue only.
    expect((await b.queuedRuns.claim()).map((r) => r.runId)).toEqual(['b1']);
    expect((await a.queuedRuns.claim()).map((r) => r.runId)).toEqual(['a1', 'a2', 'a3', 'a4']);

    // A is gone (its lease with it): B and a new process C claim at once; each of A's rows goes to one of them.
    await a.close();
    const c = await open();
    const [byB, byC] = await Promise.all([b.queuedRuns.claim(), c.queuedRuns.claim()]);
    const bIds = byB.map((r) => r.runId);
    const cIds = byC.map((r) => r.runId);
    expect(bIds.filter((id) => cIds.includes(id))).toEqual([]);
    expect([...bIds, ...cIds].sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'b1']);
    expect(bIds).toContain('b1');
    // Each list is in order of arrival, and a later claim by the other finds nothing of it.
    expect(bIds).toEqual([...bIds].sort());
    expect(cIds).toEqual([...cIds].sort());
    expect((await c.queuedRuns.claim()).map((r) => r.runId)).toEqual(cIds);
    expect((await b.queuedRuns.claim()).map((r) => r.runId)).toEqual(bIds);
  }, 60_000);
});
