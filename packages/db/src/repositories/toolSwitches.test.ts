import { afterEach, describe, expect, it } from 'vitest';
import { tempDb } from '../../test/fixtures.ts';
import { openDatabase } from '../client.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('tool switches', () => {
  it('keeps every change, reports each tool by its latest one, and survives reopening the file', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    let clock = Date.UTC(2026, 11, 3);
    const db = openDatabase({ path: t.path, now: () => clock });
    await db.toolSwitches.record({ tool: 'search', enabled: false, reason: 'index rebuild', changedBy: 'root' });
    clock += 1_000;
    await db.toolSwitches.record({ tool: 'calculator', enabled: false, reason: 'bug 12', changedBy: 'root' });
    clock += 1_000;
    await db.toolSwitches.record({ tool: 'search', enabled: true, reason: 'rebuilt', changedBy: 'ops' });
    db.close();

    const reopened = openDatabase({ path: t.path });
    cleanups.push(() => reopened.close());
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
  });

  it('refuses an empty tool name and an over-long reason with INVALID_ARGUMENT, writing nothing', async () => {
    const t = tempDb();
    const db = openDatabase({ path: t.path });
    cleanups.push(() => {
      db.close();
      t.cleanup();
    });
    await expect(
      db.toolSwitches.record({ tool: '', enabled: false, reason: 'x', changedBy: 'root' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      db.toolSwitches.record({ tool: 'search', enabled: false, reason: 'x'.repeat(501), changedBy: 'root' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await db.toolSwitches.history()).toEqual([]);
  });
});
