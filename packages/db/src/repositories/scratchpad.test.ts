import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/backends.ts';

describe.each(BACKENDS)('scratchpad on $name', (backend) => {
  const open = (now?: () => number) => backend.open(undefined, now === undefined ? {} : { now });

  it('stores, updates, lists and deletes JSON values per user', async () => {
    let clock = Date.UTC(2026, 4, 1);
    const { scratchpad } = await open(() => clock);
    await scratchpad.set('alice', 'plan', { steps: ['a', 'b'] });
    await scratchpad.set('alice', 'count', 1);
    clock += 1_000;
    await scratchpad.set('alice', 'count', 2);
    expect(await scratchpad.get('alice', 'count')).toBe(2);
    expect(await scratchpad.get('alice', 'missing')).toBeUndefined();
    expect(await scratchpad.list('alice')).toEqual([
      { key: 'count', value: 2, updatedAt: '2026-05-01T00:00:01.000Z' },
      { key: 'plan', value: { steps: ['a', 'b'] }, updatedAt: '2026-05-01T00:00:00.000Z' },
    ]);
    expect(await scratchpad.delete('alice', 'count')).toBe(true);
    expect(await scratchpad.delete('alice', 'count')).toBe(false);
    await scratchpad.set('alice', 'nothing', null);
    expect(await scratchpad.get('alice', 'nothing')).toBeNull();
  });

  it('never lets one user read, list, overwrite or delete another user’s keys', async () => {
    const { scratchpad } = await open();
    await scratchpad.set('alice', 'secret-plan', 'alice only');
    await scratchpad.set('bob', 'secret-plan', 'bob only');
    expect(await scratchpad.get('bob', 'secret-plan')).toBe('bob only');
    expect(await scratchpad.get('mallory', 'secret-plan')).toBeUndefined();
    expect(await scratchpad.list('mallory')).toEqual([]);
    expect(await scratchpad.delete('mallory', 'secret-plan')).toBe(false);
    await scratchpad.set('mallory', 'secret-plan', 'overwritten?');
    expect(await scratchpad.get('alice', 'secret-plan')).toBe('alice only');
    expect((await scratchpad.list('alice')).map((e) => e.value)).toEqual(['alice only']);
  });

  it('rejects (not throws) an empty user id or key and a key over 256 characters', async () => {
    const { scratchpad } = await open();
    await expect(scratchpad.get('', 'k')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(scratchpad.set('u', '', 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(scratchpad.set('u', 'k'.repeat(257), 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(scratchpad.list('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
