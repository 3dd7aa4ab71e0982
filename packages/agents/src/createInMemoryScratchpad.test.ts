import { describe, expect, it } from 'vitest';
import { createInMemoryScratchpad } from './createInMemoryScratchpad.ts';

describe('createInMemoryScratchpad', () => {
  it('copies values in and out, so no caller holds a reference into the store', async () => {
    const store = createInMemoryScratchpad();
    const value = { list: [1] };
    await store.set('alice', 'k', value);
    value.list.push(2);
    const read = await store.get('alice', 'k');
    expect(read).toEqual({ list: [1] });
    (read as { list: number[] }).list.push(3);
    await expect(store.get('alice', 'k')).resolves.toEqual({ list: [1] });
  });

  it("lists a user's entries sorted by key with the time of the last write", async () => {
    let now = Date.UTC(2026, 0, 1);
    const store = createInMemoryScratchpad({ now: () => now });
    await store.set('alice', 'b', 1);
    now += 1000;
    await store.set('alice', 'a', 2);
    await store.set('bob-1234', 'c', 3);
    await expect(store.list('alice')).resolves.toEqual([
      { key: 'a', value: 2, updatedAt: '2026-01-01T00:00:01.000Z' },
      { key: 'b', value: 1, updatedAt: '2026-01-01T00:00:00.000Z' },
    ]);
  });

  it('reports whether delete removed anything', async () => {
    const store = createInMemoryScratchpad();
    await store.set('alice', 'k', null);
    await expect(store.delete('alice', 'k')).resolves.toBe(true);
    await expect(store.delete('alice', 'k')).resolves.toBe(false);
    await expect(store.list('alice')).resolves.toEqual([]);
  });
});
