import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/backends.ts';

describe.each(BACKENDS)('tool switches on $name', (backend) => {
  it('keeps every change, reports each tool by its latest one, and survives reopening the database', async () => {
    const location = await backend.fresh();
    let clock = Date.UTC(2026, 11, 3);
    const db = await backend.open(location, { now: () => clock });
    await db.toolSwitches.record({ tool: 'search', enabled: false, reason: 'index rebuild', changedBy: 'root' });
    clock += 1_000;
    await db.toolSwitches.record({ tool: 'calculator', enabled: false, reason: 'bug 12', changedBy: 'root' });
    clock += 1_000;
    await db.toolSwitches.record({ tool: 'search', enabled: true, reason: 'rebuilt', changedBy: 'ops' });
    await db.close();

    const reopened = await backend.open(location);
    expect(await reopened.toolSwitches.current()).toEqual([
      expect.objectContaining({ tool: 'calculator', enabled: false, reason: 'bug 12', changedBy: 'root' }),
      expect.objectContaining({ tool: 'search', enabled: true, reason: 'rebuilt', changedBy: 'ops' }),
    ]);
    const history = await reopened.toolSwitches.history({ tool: 'search' });
    expect(history.map((h) => [h.enabled, h.changedBy, h.changedAt])).toEqual([
      [true, 'ops', '2026-12-03T00:00:02.000Z'],
      [false, 'root', '2026-12-03T00:00:00.000Z'],
    ]);
    expect(await reopened.toolSwitches.history()).toHaveLength(3);
    expect(await reopened.toolSwitches.history({ limit: 1 })).toHaveLength(1);
  });

  it('refuses an empty tool name and an over-long reason with INVALID_ARGUMENT, writing nothing', async () => {
    const db = await backend.open();
    await expect(
      db.toolSwitches.record({ tool: '', enabled: false, reason: 'x', changedBy: 'root' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      db.toolSwitches.record({ tool: 'search', enabled: false, reason: 'x'.repeat(501), changedBy: 'root' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await db.toolSwitches.history()).toEqual([]);
  });

  it('watch tells one process of a change recorded through another on the same database (a no-op on SQLite: one process per file)', async () => {
    const a = await backend.open();
    if (backend.name === 'sqlite') {
      let calls = 0;
      const stop = a.toolSwitches.watch(() => {
        calls += 1;
      });
      await a.toolSwitches.record({ tool: 'search', enabled: false, reason: 'x', changedBy: 'root' });
      stop();
      expect(calls).toBe(0);
      return;
    }
    const b = await backend.open(a.location);
    const seen: string[] = [];
    const notified = (label: string, count: number) =>
      new Promise<() => void>((resolve) => {
        let n = 0;
        const stop = b.toolSwitches.watch(() => {
          seen.push(label);
          n += 1;
          if (n === count) resolve(stop);
        });
      });
    const first = notified('first', 1);
    // A read after watch() misses nothing: the LISTEN is in force before it answers.
    expect(await b.toolSwitches.current()).toEqual([]);
    await a.toolSwitches.record({ tool: 'search', enabled: false, reason: 'index rebuild', changedBy: 'root' });
    const stopFirst = await first;
    expect(await b.toolSwitches.current()).toEqual([
      expect.objectContaining({ tool: 'search', enabled: false, reason: 'index rebuild' }),
    ]);
    // Unsubscribed: the next change reaches only the watcher still subscribed (notifications arrive in order).
    stopFirst();
    const second = notified('second', 1);
    await b.toolSwitches.current();
    await a.toolSwitches.record({ tool: 'search', enabled: true, reason: 'rebuilt', changedBy: 'root' });
    (await second)();
    expect(seen).toEqual(['first', 'second']);
  });

  it('refuses every call once closed', async () => {
    const db = await backend.open();
    await db.close();
    await expect(db.toolSwitches.current()).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(db.approvals.get('a')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
