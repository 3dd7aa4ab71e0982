import { defineAgent } from '@toolrun/dispatcher';
import { z } from 'zod';
import { describeFailure, outputOf } from '../lib/toolResults.ts';
import { MAX_SLOW_TASK_MS } from '../tools/slowTask.ts';

/** The slow agent's input: 20 steps of 500 ms by default, time enough to press cancel. */
export const slowAgentInput = z
  .object({
    steps: z.number().int().min(1).max(100).default(20),
    delayMs: z.number().int().min(0).max(5_000).default(500),
    /** Demo: the task goes silent at this step and is stopped as STALLED (see slow_task). */
    stallAtStep: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .refine((input) => input.steps * input.delayMs <= MAX_SLOW_TASK_MS, {
    message: `steps × delayMs must be at most ${MAX_SLOW_TASK_MS} ms`,
    path: ['delayMs'],
  });

const slowTaskOutput = z.object({ elapsedMs: z.number(), log: z.array(z.unknown()) });

/**
 * `slow`: runs one long `slow_task`, for cancel demos. Cancel the run and the tool stops mid-step:
 * `tool_completed` `status: 'cancelled'`, then `agent_completed` `status: 'cancelled'`.
 */
export const slowAgent = defineAgent({
  name: 'slow',
  description:
    'Runs a long slow_task (about 10 s by default) that reports its progress: start it, then try cancelling it, ' +
    'or pass stallAtStep to watch a stalled tool get stopped.',
  input: slowAgentInput,
  async run({ steps, delayMs, stallAtStep }, ctx) {
    const total = steps * delayMs;
    const about = total >= 1_000 ? `${Math.round(total / 100) / 10} s` : `${total} ms`;
    ctx.think(
      `Starting a slow task of ${steps} steps × ${delayMs} ms (about ${about}). It is here for cancel demos: ` +
        'cancel the run and the task stops mid-step, the tool call ends cancelled and so does the run.',
    );
    const result = await ctx.callTool('slow_task', {
      steps,
      delayMs,
      label: 'slow demo',
      ...(stallAtStep === undefined ? {} : { stallAtStep }),
    });
    // A cancelled run must end cancelled, not complete with a partial answer.
    ctx.signal.throwIfAborted();
    const output = outputOf(result, slowTaskOutput);
    if (output === undefined) {
      ctx.think(`The slow task did not finish: ${describeFailure(result)}.`);
      return { finished: false, steps, reason: describeFailure(result) };
    }
    ctx.think(
      `The slow task finished all ${output.log.length} steps in ${output.elapsedMs} ms without being cancelled.`,
    );
    return { finished: true, steps: output.log.length, elapsedMs: output.elapsedMs };
  },
});
