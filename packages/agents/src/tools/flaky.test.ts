import { describe, expect, it } from 'vitest';
import { toolRunContext } from '../../test/support/toolRunContext.ts';
import { flakyTool } from './flaky.ts';

const run = async (input: unknown) => flakyTool.run(flakyTool.input.parse(input), toolRunContext({ userId: 'alice' }));

async function outcome(input: unknown): Promise<'ok' | 'failed'> {
  try {
    await run(input);
    return 'ok';
  } catch (error) {
    expect(error).toMatchObject({ name: 'DispatchError', code: 'TOOL_FAILED', details: { reason: 'FLAKY_FAILURE' } });
    return 'failed';
  }
}

describe('flaky tool', () => {
  it('never fails at rate 0 and always fails at rate 1, by throwing', async () => {
    for (let i = 0; i < 20; i += 1) {
      expect(await outcome({ failureRate: 0 })).toBe('ok');
      expect(await outcome({ failureRate: 1 })).toBe('failed');
    }
  });

  it('gives the same outcome for the same seed, every time', async () => {
    for (let seed = 0; seed < 30; seed += 1) {
      const first = await outcome({ failureRate: 0.5, seed });
      expect(await outcome({ failureRate: 0.5, seed })).toBe(first);
    }
  });

  it('fails at about the requested rate over many seeds', async () => {
    let failed = 0;
    for (let seed = 0; seed < 1_000; seed += 1)
      if ((await outcome({ failureRate: 0.3, seed })) === 'failed') failed += 1;
    expect(failed).toBeGreaterThan(200);
    expect(failed).toBeLessThan(400);
  });

  it('gives unrelated outcomes for neighbouring seeds, so seed, seed + 1, … behave like independent calls', async () => {
    let changes = 0;
    let previous = await outcome({ failureRate: 0.5, seed: 0 });
    for (let seed = 1; seed <= 1_000; seed += 1) {
      const current = await outcome({ failureRate: 0.5, seed });
      if (current !== previous) changes += 1;
      previous = current;
    }
    expect(changes).toBeGreaterThan(400);
    expect(changes).toBeLessThan(600);
  });

  it('reports its roll on success and names the roll in the failure message', async () => {
    await expect(run({ failureRate: 0, seed: 7 })).resolves.toMatchObject({ ok: true, failureRate: 0 });
    await expect(run({ failureRate: 1, seed: 7 })).rejects.toThrow(
      /^flaky failed on purpose \(roll 0\.\d+ < failureRate 1\)$/,
    );
  });

  it('bounds failureRate to 0..1', () => {
    expect(flakyTool.input.safeParse({ failureRate: 1.1 }).success).toBe(false);
    expect(flakyTool.input.safeParse({ failureRate: -0.1 }).success).toBe(false);
    expect(flakyTool.input.parse({})).toEqual({ failureRate: 0.5 });
  });
});
