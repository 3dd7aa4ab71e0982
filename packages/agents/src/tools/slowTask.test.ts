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

describe('slow_task heartbeats', () => {
  it('beats while it works and reports each step as progress, with its fraction', async () => {
    const heartbeats: unknown[] = [];
    const input = slowTaskTool.input.parse({ steps: 2, delayMs: 300, label: 'job' });
    await slowTaskTool.run(input, toolRunContext({ userId: 'alice', heartbeats }));
    const progress = heartbeats.filter((h) => typeof h === 'object' && h !== null && 'message' in h);
    expect(progress).toEqual([
      { step: 1, message: 'job: step 1 of 2 done', fraction: 0.5 },
      { step: 2, message: 'job: step 2 of 2 done', fraction: 1 },
    ]);
    // Mid-step beats too, so a step longer than the heartbeat timeout is never taken for a stall.
    expect(heartbeats.length).toBeGreaterThan(progress.length);
  });

  it('goes silent at stallAtStep, deaf to its signal, then returns what it has', async () => {
    const heartbeats: unknown[] = [];
    const controller = new AbortController();
    const input = slowTaskTool.input.parse({ steps: 3, delayMs: 1, stallAtStep: 1, stallMs: 30 });
    const pending = slowTaskTool.run(input, toolRunContext({ userId: 'alice', heartbeats, signal: controller.signal }));
    controller.abort(new Error('stopped'));
    const output = await pending;
    expect(output).toMatchObject({ stalled: true, log: [] });
    expect(heartbeats).toEqual([]);
    expect(slowTaskTool.heartbeatTimeoutMs).toBe(3_000);
  });
});
