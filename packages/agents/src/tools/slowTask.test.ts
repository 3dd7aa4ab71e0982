import { describe, expect, it } from 'vitest';
import { toolRunContext } from '../../test/support/toolRunContext.ts';
import { slowTaskTool } from './slowTask.ts';

const run = async (input: unknown, signal?: AbortSignal) =>
  slowTaskTool.run(
    slowTaskTool.input.parse(input),
    toolRunContext({ userId: 'alice', ...(signal === undefined ? {} : { signal }) }),
  );

describe('slow_task tool', () => {
  it('works through every step and returns its progress log in order', async () => {
    const output = await run({ steps: 3, delayMs: 1, label: 'export' });
    expect(output).toMatchObject({ label: 'export', steps: 3 });
    expect(output.log.map((entry) => entry.message)).toEqual([
      'export: step 1 of 3 done',
      'export: step 2 of 3 done',
      'export: step 3 of 3 done',
    ]);
    const times = output.log.map((entry) => entry.elapsedMs);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  // Hang guard: without honouring the signal this call would take 50 s and hit the test timeout.
  it("stops mid-step with the signal's reason when the call is aborted", { timeout: 10_000 }, async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by test');
    const pending = run({ steps: 10, delayMs: 5_000 }, controller.signal);
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
  });

  it('does no work when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await expect(run({ steps: 1, delayMs: 0 }, controller.signal)).rejects.toThrow('too late');
  });

  it('bounds steps, delay and their product so it always ends before its own timeout', () => {
    expect(slowTaskTool.input.safeParse({ steps: 0 }).success).toBe(false);
    expect(slowTaskTool.input.safeParse({ steps: 101 }).success).toBe(false);
    expect(slowTaskTool.input.safeParse({ delayMs: 5_001 }).success).toBe(false);
    expect(slowTaskTool.input.safeParse({ steps: 100, delayMs: 5_000 }).success).toBe(false);
    expect(slowTaskTool.input.parse({})).toEqual({ steps: 5, delayMs: 200, label: 'slow task' });
    expect(100 * 500).toBeLessThan(slowTaskTool.timeoutMs ?? 0);
  });
});
