import { defineTool } from '@toolrun/dispatcher';
import { z } from 'zod';
import { sleep } from '../lib/sleep.ts';

/** The longest a slow task may plan to take, so it always ends before its timeout. */
export const MAX_SLOW_TASK_MS = 50_000;

/** The slow_task tool's input. */
export const slowTaskInput = z
  .object({
    steps: z.number().int().min(1).max(100).default(5).describe('How many steps to work through'),
    delayMs: z.number().int().min(0).max(5_000).default(200).describe('How long each step takes, in ms'),
    label: z.string().max(100).default('slow task').describe('A name for the task in its progress log'),
  })
  .strict()
  .refine((input) => input.steps * input.delayMs <= MAX_SLOW_TASK_MS, {
    message: `steps × delayMs must be at most ${MAX_SLOW_TASK_MS} ms`,
    path: ['delayMs'],
  });

/**
 * `slow_task`: works through `steps` steps of `delayMs` each and returns its progress log
 * (`{ label, steps, elapsedMs, log: { step, elapsedMs, message }[] }`). It waits on the call's
 * signal, so a cancel, timeout or run deadline stops it at once, mid-step, with the signal's reason.
 */
export const slowTaskTool = defineTool({
  name: 'slow_task',
  description:
    'Simulates a long job: works through a number of steps, each taking delayMs, and returns a progress log. ' +
    'Stops at once when the run is cancelled.',
  input: slowTaskInput,
  access: 'user',
  timeoutMs: 60_000,
  async run({ steps, delayMs, label }, { signal }) {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    const log: { step: number; elapsedMs: number; message: string }[] = [];
    for (let step = 1; step <= steps; step += 1) {
      await sleep(delayMs, signal);
      log.push({ step, elapsedMs: elapsed(), message: `${label}: step ${step} of ${steps} done` });
    }
    return { label, steps, elapsedMs: elapsed(), log };
  },
});
