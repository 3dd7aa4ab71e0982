import { describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../../test/backends.ts';
import { makeRun, RunBuilder, writeInChunks } from '../../test/fixtures.ts';

const day = 86_400_000;
const now = Date.UTC(2026, 6, 1);

async function seed(backend: Backend, writer: 'thread' | 'inline' = 'thread') {
  const db = await backend.open(undefined, { now: () => now, writer });
  const sink = db.createPersistentSink();
  const old = Array.from({ length: 23 }, (_, i) =>
    makeRun({ runId: `old-${i}`, userId: `u${i % 2}`, startMs: now - 10 * day + i, toolCalls: 2 }),
  );
  const recent = makeRun({ runId: 'recent', userId: 'u1', startMs: now - day });
  const stuck = new RunBuilder({ runId: 'old-but-running', userId: 'u1', startMs: now - 20 * day });
  stuck.started();
  stuck.toolExecuting();
  await Promise.all([...old, recent, stuck.events].map((events) => sink.write(events)));
  return { db, sink, path: db.location, old, recent };
}

describe.each(BACKENDS)('prune on $name', (backend) => {
  const count = (path: string, table: string) => backend.count(path, table);

  it('deletes finished runs older than the cutoff with their events and tool calls, never running ones', async () => {
    const { db, path, old, recent } = await seed(backend);
    const result = await db.prune({ olderThanMs: 7 * day, batchSize: 5 });
    expect(result).toEqual({ runs: 23, events: old.flat().length });
    expect((await db.listRuns({ limit: 100 })).items.map((r) => r.id).sort()).toEqual(['old-but-running', 'recent']);
    expect(await count(path, 'run_events')).toBe(recent.length + 2);
    expect(await count(path, 'tool_calls')).toBe(2 + 1);
    expect(await db.eventsAfter('recent', 0)).toEqual(recent);
    expect(await db.prune({ olderThanMs: 7 * day })).toEqual({ runs: 0, events: 0 });
  });

  it("waits for the writer thread's lock instead of failing: writes racing a long prune all commit", async () => {
    const { db, sink } = await seed(backend, 'thread');
    const pruning = db.prune({ olderThanMs: 7 * day, batchSize: 1 });
    const runs = Array.from({ length: 40 }, (_, i) => makeRun({ runId: `race-${i}`, userId: 'u1', startMs: now }));
    const writing = Promise.all(runs.map((events, i) => writeInChunks(sink, events, 2, i)));
    const [pruned] = await Promise.all([pruning, writing]);
    expect(pruned.runs).toBe(23);
    expect(sink.stats().rejected).toBe(0);
    for (const events of runs) expect(await db.eventsAfter(events[0]?.runId ?? '', 0)).toEqual(events);
  });

  it("prunes only one user's finished runs when given userId, leaving everyone else's", async () => {
    const { db } = await seed(backend);
    const result = await db.prune({ olderThanMs: 0, userId: 'u0' });
    expect(result.runs).toBe(12);
    expect((await db.listRuns({ limit: 100, userId: 'u0' })).items).toEqual([]);
    // u1's eleven old runs, the recent one and the one still running are all kept.
    expect((await db.listRuns({ limit: 100, userId: 'u1' })).items).toHaveLength(13);
  });

  it('stops between batches when aborted, keeping what it already deleted', async () => {
    const { db } = await seed(backend);
    const controller = new AbortController();
    const pruning = db.prune({ olderThanMs: 7 * day, batchSize: 4, signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pruning).rejects.toThrow('stop');
    const left = (await db.listRuns({ limit: 100 })).items.filter(
      (r) => r.id.startsWith('old-') && r.status !== 'running',
    );
    expect(left).toHaveLength(23 - 4);
  });

  it('refuses a negative age or a batch size out of range', async () => {
    const { db } = await seed(backend);
    await expect(db.prune({ olderThanMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(db.prune({ olderThanMs: 1, batchSize: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('prune on sqlite, inline writer', () => {
  const [sqlite] = BACKENDS as [Backend];
  it('runs in batches that yield to the event loop, so inline sink writes commit in between', async () => {
    // Inline, the sink commits on the event loop: only the prune's yields let it in.
    const { db, sink } = await seed(sqlite, 'inline');
    const order: string[] = [];
    const pruning = db.prune({ olderThanMs: 7 * day, batchSize: 4 }).then(() => order.push('prune done'));
    const writing = sink
      .write(makeRun({ runId: 'during', userId: 'u1', startMs: now }))
      .then(() => order.push('write committed'));
    await Promise.all([pruning, writing]);
    expect(order).toEqual(['write committed', 'prune done']);
    expect((await db.getRunRecord('during'))?.status).toBe('completed');
  });
});
