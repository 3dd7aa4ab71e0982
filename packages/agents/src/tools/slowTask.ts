import { defineTool } from '@toolrun/dispatcher';
import { z } from 'zod';
import { sleep } from '../lib/sleep.ts';

/** The longest a slow task may plan to take, so it always ends before its timeout. */
export const MAX_SLOW_TASK_MS = 50_000;

/** slow_task promises a heartbeat at least this often (it beats every {@link BEAT_EVERY_MS} at most). */
export const SLOW_TASK_HEARTBEAT_TIMEOUT_MS = 3_000;
const BEAT_EVERY_MS = 250;
const DEFAULT_STALL_MS = 5_000;

/** The slow_task tool's input. */
export const slowTaskInput = z
  .object({
    steps: z.number().int().min(1).max(100).default(5).describe('How many steps to work through'),
    delayMs: z.number().int().min(0).max(5_000).default(200).describe('How long each step takes, in ms'),
    label: z.string().max(100).default('slow task').describe('A name for the task in its progress log'),
    stallAtStep: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe('Demo: at this step, go silent (no heartbeat, deaf to cancel) and get stopped as STALLED'),
    stallMs: z
      .number()
      .int()
      .min(0)
      .max(30_000)
      .optional()
      .describe(
        'Demo: how long the stall lasts (5 s by default); the result that follows comes too late and is only recorded',
      ),
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
 * It heartbeats every 250 ms at most, with its progress after each step (shown as `agent_thinking`
 * with `progress`). With `stallAtStep` it goes silent at that step, deaf to its signal, for
 * `stallMs`: the dispatcher stops the call as `STALLED` after 3 s, and the result the tool returns
 * afterwards is recorded as late, never delivered.
 */
export const slowTaskTool = defineTool({
  name: 'slow_task',
  description:
    'Simulates a long job: works through a number of steps, each taking delayMs, and returns a progress log. ' +
    'Stops at once when the run is cancelled.',
  input: slowTaskInput,
  access: 'user',
  timeoutMs: 60_000,
  heartbeatTimeoutMs: SLOW_TASK_HEARTBEAT_TIMEOUT_MS,
  async run({ steps, delayMs, label, stallAtStep, stallMs }, { signal, heartbeat }) {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    const log: { step: number; elapsedMs: number; message: string }[] = [];
    for (let step = 1; step <= steps; step += 1) {
      if (step === stallAtStep) {
        // A hung dependency: no heartbeat, and the signal is not listened to.
        await new Promise((resolve) => setTimeout(resolve, stallMs ?? DEFAULT_STALL_MS));
        return { label, steps, elapsedMs: elapsed(), log, stalled: true };
      }
      for (let left = delayMs; left > 0; left -= BEAT_EVERY_MS) {
        await sleep(Math.min(left, BEAT_EVERY_MS), signal);
        heartbeat({ step });
      }
      signal.throwIfAborted();
      const message = `${label}: step ${step} of ${steps} done`;
      log.push({ step, elapsedMs: elapsed(), message });
      heartbeat({ step, message, fraction: step / steps });
    }
    return { label, steps, elapsedMs: elapsed(), log };
  },
});
