import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/backends.ts';
import { makeRun, RunBuilder } from '../../test/fixtures.ts';
import type { RunRecord } from './runs.ts';

const base = Date.UTC(2026, 3, 1);

describe.each(BACKENDS)('listRuns on $name', (backend) => {
  async function open() {
    const db = await backend.open();
    return { db, sink: db.createPersistentSink() };
  }

  it('pages newest first with opaque cursors that stay stable while new runs arrive', async () => {
    const { db, sink } = await open();
    // 30 runs, several sharing a start millisecond, so the id tiebreak is exercised.
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        sink.write(
          makeRun({ runId: `run-${String(i).padStart(2, '0')}`, userId: 'u1', startMs: base + Math.floor(i / 3) }),
        ),
      ),
    );
    const snapshot = (await db.listRuns({ userId: 'u1', limit: 100 })).items.map((r) => r.id);
    expect(snapshot).toHaveLength(30);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page += 1) {
      const result = await db.listRuns({ userId: 'u1', limit: 7, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...result.items.map((r) => r.id));
      // New runs arrive between pages (newer, and one with a start time equal to the newest seen).
      await sink.write(makeRun({ runId: `new-${page}`, userId: 'u1', startMs: base + 1_000 + page }));
      await sink.write(makeRun({ runId: `zz-tie-${page}`, userId: 'u1', startMs: base + 9 }));
      if (result.nextCursor === null) break;
      expect(result.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
      cursor = result.nextCursor;
    }
    expect(seen).toEqual(snapshot);
  });

  it('filters by status, agent and user, and combines them', async () => {
    const { db, sink } = await open();
    await sink.write(makeRun({ runId: 'a', userId: 'u1', agent: 'research', status: 'completed', startMs: base }));
    await sink.write(makeRun({ runId: 'b', userId: 'u1', agent: 'calculator', status: 'failed', startMs: base + 1 }));
    await sink.write(makeRun({ runId: 'c', userId: 'u2', agent: 'research', status: 'failed', startMs: base + 2 }));
    const running = new RunBuilder({ runId: 'd', userId: 'u2', startMs: base + 3 });
    running.started('slow');
    await sink.write(running.events);
    const ids = (page: { items: RunRecord[] }) => page.items.map((r) => r.id);
    expect(ids(await db.listRuns({ limit: 10 }))).toEqual(['d', 'c', 'b', 'a']);
    expect(ids(await db.listRuns({ limit: 10, status: 'failed' }))).toEqual(['c', 'b']);
    expect(ids(await db.listRuns({ limit: 10, status: 'running' }))).toEqual(['d']);
    expect(ids(await db.listRuns({ limit: 10, agent: 'research' }))).toEqual(['c', 'a']);
    expect(ids(await db.listRuns({ limit: 10, userId: 'u1' }))).toEqual(['b', 'a']);
    expect(ids(await db.listRuns({ limit: 10, userId: 'u2', status: 'failed', agent: 'research' }))).toEqual(['c']);
    expect(await db.listRuns({ limit: 10, userId: 'u3' })).toEqual({ items: [], nextCursor: null });
  });

  it('leaves out the runs of excluded users (service identities in the all-users view), page after page', async () => {
    const { db, sink } = await open();
    for (let i = 0; i < 6; i += 1) {
      await sink.write(makeRun({ runId: `r${i}`, userId: i % 2 === 0 ? 'u1' : 'svc', startMs: base + i }));
    }
    const first = await db.listRuns({ limit: 2, excludeUserIds: ['svc'] });
    expect(first.items.map((r) => r.id)).toEqual(['r4', 'r2']);
    const second = await db.listRuns({ limit: 2, excludeUserIds: ['svc'], cursor: first.nextCursor ?? '' });
    expect(second.items.map((r) => r.id)).toEqual(['r0']);
    expect((await db.listRuns({ limit: 10, excludeUserIds: [] })).items).toHaveLength(6);
  });

  it('refuses a cursor it did not make and a limit out of range', async () => {
    const { db } = await open();
    for (const cursor of [
      'garbage!',
      Buffer.from('{"a":1}').toString('base64url'),
      Buffer.from('[1.5,"x"]').toString('base64url'),
    ]) {
      await expect(db.listRuns({ limit: 5, cursor })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    }
    await expect(db.listRuns({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(db.listRuns({ limit: 1_001 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('getRun returns undefined for an unknown run', async () => {
    const { db } = await open();
    expect(await db.getRun('missing')).toBeUndefined();
    expect(await db.getRunRecord('missing')).toBeUndefined();
  });
});
