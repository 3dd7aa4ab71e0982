import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRun, RunBuilder, tempDb, writeInChunks } from '../../test/fixtures.ts';
import { openDatabase } from '../client.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
const day = 86_400_000;
const now = Date.UTC(2026, 6, 1);

async function seed(writer: 'thread' | 'inline' = 'thread') {
  const t = tempDb();
  const db = openDatabase({ path: t.path, now: () => now, writer });
  cleanups.push(() => {
    db.close();
    t.cleanup();
  });
  const sink = db.createPersistentSink();
  const old = Array.from({ length: 23 }, (_, i) =>
    makeRun({ runId: `old-${i}`, userId: `u${i % 2}`, startMs: now - 10 * day + i, toolCalls: 2 }),
  );
  const recent = makeRun({ runId: 'recent', userId: 'u1', startMs: now - day });
  const stuck = new RunBuilder({ runId: 'old-but-running', userId: 'u1', startMs: now - 20 * day });
  stuck.started();
  stuck.toolExecuting();
  await Promise.all([...old, recent, stuck.events].map((events) => sink.write(events)));
  return { db, sink, path: t.path, old, recent };
}

function count(path: string, table: string): number {
  const raw = new Database(path, { readonly: true });
  try {
    return Number(raw.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
  } finally {
    raw.close();
  }
}

describe('prune', () => {
  it('deletes finished runs older than the cutoff with their events and tool calls, never running ones', async () => {
    const { db, path, old, recent } = await seed();
    const result = await db.prune({ olderThanMs: 7 * day, batchSize: 5 });
    expect(result).toEqual({ runs: 23, events: old.flat().length });
    expect(
      db
        .listRuns({ limit: 100 })
        .items.map((r) => r.id)
        .sort(),
    ).toEqual(['old-but-running', 'recent']);
    expect(count(path, 'run_events')).toBe(recent.length + 2);
    expect(count(path, 'tool_calls')).toBe(2 + 1);
    expect(db.eventsAfter('recent', 0)).toEqual(recent);
    expect(await db.prune({ olderThanMs: 7 * day })).toEqual({ runs: 0, events: 0 });
  });

  it("prunes only one user's finished runs when given userId, leaving everyone else's", async () => {
    const { db } = await seed();
    const result = await db.prune({ olderThanMs: 0, userId: 'u0' });
    expect(result.runs).toBe(12);
    expect(db.listRuns({ limit: 100, userId: 'u0' }).items).toEqual([]);
    // u1's eleven old runs, the recent one and the one still running are all kept.
    expect(db.listRuns({ limit: 100, userId: 'u1' }).items).toHaveLength(13);
  });

  it('runs in batches that yield to the event loop, so inline sink writes commit in between', async () => {
    // Inline, the sink commits on the event loop: only the prune's yields let it in.
    const { db, sink } = await seed('inline');
    const order: string[] = [];
    const pruning = db.prune({ olderThanMs: 7 * day, batchSize: 4 }).then(() => order.push('prune done'));
    const writing = sink
      .write(makeRun({ runId: 'during', userId: 'u1', startMs: now }))
      .then(() => order.push('write committed'));
    await Promise.all([pruning, writing]);
    expect(order).toEqual(['write committed', 'prune done']);
    expect(db.getRunRecord('during')?.status).toBe('completed');
  });

  it("waits for the writer thread's lock instead of failing: writes racing a long prune all commit", async () => {
    const { db, sink } = await seed('thread');
    const pruning = db.prune({ olderThanMs: 7 * day, batchSize: 1 });
    const runs = Array.from({ length: 40 }, (_, i) => makeRun({ runId: `race-${i}`, userId: 'u1', startMs: now }));
    const writing = Promise.all(runs.map((events, i) => writeInChunks(sink, events, 2, i)));
    const [pruned] = await Promise.all([pruning, writing]);
    expect(pruned.runs).toBe(23);
    expect(sink.stats().rejected).toBe(0);
    for (const events of runs) expect(db.eventsAfter(events[0]?.runId ?? '', 0)).toEqual(events);
  });

  it('stops between batches when aborted, keeping what it already deleted', async () => {
    const { db } = await seed();
    const controller = new AbortController();
    const pruning = db.prune({ olderThanMs: 7 * day, batchSize: 4, signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pruning).rejects.toThrow('stop');
    const left = db.listRuns({ limit: 100 }).items.filter((r) => r.id.startsWith('old-') && r.status !== 'running');
    expect(left).toHaveLength(23 - 4);
  });

  it('refuses a negative age or a batch size out of range', async () => {
    const { db } = await seed();
    await expect(db.prune({ olderThanMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(db.prune({ olderThanMs: 1, batchSize: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
