import { openStorage, type ToolrunDatabase } from '@toolrun/db';
import { useTestPostgres } from '@toolrun/db/test-support';
import { describe, expect, it } from 'vitest';
import { createToolSwitchboard } from './toolSwitchboard.ts';

const postgres = useTestPostgres();

async function open(location: string): Promise<ToolrunDatabase> {
  return postgres.track(await openStorage({ location }));
}

describe('tool switchboard across processes (PostgreSQL)', () => {
  it('a tool disabled through one process is refused by another as soon as its notification arrives, and enabled again likewise', async () => {
    const url = await postgres.server.createDatabase();
    const [dbA, dbB] = [await open(url), await open(url)];
    const boardA = await createToolSwitchboard(dbA.toolSwitches);
    let reloaded: () => void = () => {};
    const nextReload = () =>
      new Promise<void>((resolve) => {
        reloaded = resolve;
      });
    const boardB = await createToolSwitchboard(dbB.toolSwitches, {
      onReload: (error) => {
        if (error === undefined) reloaded();
      },
    });
    expect(boardB.disabledReason('search')).toBeUndefined();

    let reload = nextReload();
    const change = await boardA.set({ tool: 'search', enabled: false, reason: 'index rebuild', changedBy: 'root' });
    await reload;
    expect(boardB.disabledReason('search')).toBe('index rebuild');
    expect(boardB.state('search')).toEqual({ enabled: false, lastChange: change });

    reload = nextReload();
    await boardA.set({ tool: 'search', enabled: true, reason: 'rebuilt', changedBy: 'root' });
    await reload;
    expect(boardB.disabledReason('search')).toBeUndefined();
    expect(boardB.state('search')).toMatchObject({ enabled: true, lastChange: { reason: 'rebuilt' } });
  }, 60_000);

  it('on SQLite (one process per file) the board answers its own changes, without watching', async () => {
    const db = await openStorage({ location: ':memory:' });
    postgres.track(db);
    const board = await createToolSwitchboard(db.toolSwitches);
    await board.set({ tool: 'search', enabled: false, reason: 'bug', changedBy: 'root' });
    expect(board.disabledReason('search')).toBe('bug');
  });
});
