import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toolRunContext } from '../../test/support/toolRunContext.ts';
import { createInMemoryScratchpad } from '../createInMemoryScratchpad.ts';
import { createScratchpadTool, MAX_SCRATCHPAD_KEYS, MAX_SCRATCHPAD_VALUE_BYTES } from './scratchpad.ts';

function setup() {
  const tool = createScratchpadTool(createInMemoryScratchpad({ now: () => Date.UTC(2026, 0, 1) }));
  const as = (userId: string) => async (input: unknown) =>
    tool.run(tool.input.parse(input), toolRunContext({ userId }));
  return { tool, alice: as('alice'), bob: as('bob-1234') };
}

describe('scratchpad tool', () => {
  it("sets, gets, lists and deletes a user's own keys", async () => {
    const { alice } = setup();
    await expect(alice({ op: 'set', key: 'plan', value: { steps: [1, 2] } })).resolves.toEqual({
      op: 'set',
      key: 'plan',
      bytes: 15,
    });
    await expect(alice({ op: 'get', key: 'plan' })).resolves.toEqual({
      op: 'get',
      key: 'plan',
      found: true,
      value: { steps: [1, 2] },
    });
    await expect(alice({ op: 'list' })).resolves.toEqual({
      op: 'list',
      count: 1,
      entries: [{ key: 'plan', value: { steps: [1, 2] }, updatedAt: '2026-01-01T00:00:00.000Z' }],
    });
    await expect(alice({ op: 'delete', key: 'plan' })).resolves.toEqual({ op: 'delete', key: 'plan', deleted: true });
    await expect(alice({ op: 'get', key: 'plan' })).resolves.toMatchObject({ found: false, value: null });
  });

  it("keys everything by the scope's userId: another user cannot read, list or delete the key", async () => {
    const { alice, bob } = setup();
    await alice({ op: 'set', key: 'secret-plan', value: 'alice only' });
    await expect(bob({ op: 'get', key: 'secret-plan' })).resolves.toMatchObject({ found: false, value: null });
    await expect(bob({ op: 'list' })).resolves.toMatchObject({ count: 0, entries: [] });
    await expect(bob({ op: 'delete', key: 'secret-plan' })).resolves.toMatchObject({ deleted: false });
    await bob({ op: 'set', key: 'secret-plan', value: 'bob' });
    await expect(alice({ op: 'get', key: 'secret-plan' })).resolves.toMatchObject({ value: 'alice only' });
  });

  it('has no input field that names a user', () => {
    const { tool } = setup();
    expect(tool.input.safeParse({ op: 'get', key: 'k', userId: 'bob-1234' }).success).toBe(false);
  });

  it('matches a per-user model over any sequence of operations by several users', async () => {
    const op = fc.record({
      user: fc.constantFrom('alice', 'bob-1234', 'carol'),
      op: fc.constantFrom('get' as const, 'set' as const, 'delete' as const),
      key: fc.constantFrom('a', 'b', 'c'),
      value: fc.integer(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const { tool } = setup();
        const model = new Map<string, number>();
        for (const step of ops) {
          const run = (input: unknown) => tool.run(tool.input.parse(input), toolRunContext({ userId: step.user }));
          const slot = `${step.user}/${step.key}`;
          if (step.op === 'set') {
            await run({ op: 'set', key: step.key, value: step.value });
            model.set(slot, step.value);
          } else if (step.op === 'delete') {
            expect(await run({ op: 'delete', key: step.key })).toMatchObject({ deleted: model.delete(slot) });
          } else {
            expect(await run({ op: 'get', key: step.key })).toMatchObject({ value: model.get(slot) ?? null });
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a value larger than the bound and a malformed key before touching the store', () => {
    const { tool } = setup();
    const big = 'x'.repeat(MAX_SCRATCHPAD_VALUE_BYTES);
    const result = tool.input.safeParse({ op: 'set', key: 'k', value: big });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/limit is 4096/);
    expect(tool.input.safeParse({ op: 'set', key: 'k', value: 'x'.repeat(100) }).success).toBe(true);
    expect(tool.input.safeParse({ op: 'get', key: '../etc' }).success).toBe(false);
    expect(tool.input.safeParse({ op: 'get' }).success).toBe(false);
    expect(tool.input.safeParse({ op: 'set', key: 'k' }).success).toBe(false);
  });

  it('refuses a new key once the user holds the maximum, but still updates existing keys', async () => {
    const { alice, bob } = setup();
    for (let i = 0; i < MAX_SCRATCHPAD_KEYS; i += 1) await alice({ op: 'set', key: `k${i}`, value: i });
    await expect(alice({ op: 'set', key: 'one-more', value: 1 })).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      details: { reason: 'SCRATCHPAD_FULL' },
    });
    await expect(alice({ op: 'set', key: 'k0', value: 'updated' })).resolves.toMatchObject({ key: 'k0' });
    await expect(bob({ op: 'set', key: 'one-more', value: 1 })).resolves.toMatchObject({ key: 'one-more' });
  });
});
