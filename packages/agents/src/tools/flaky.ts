import { DispatchError, defineTool } from '@toolrun/dispatcher';
import { z } from 'zod';
import { seededRandom } from '../lib/seededRandom.ts';

/** The flaky tool's input. */
export const flakyInput = z
  .object({
    failureRate: z.number().min(0).max(1).default(0.5).describe('Chance of failing, from 0 (never) to 1 (always)'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional()
      .describe('Makes the outcome deterministic: the same seed always rolls the same number'),
  })
  .strict();

/**
 * `flaky`: fails on purpose with probability `failureRate`, by throwing (so the dispatcher reports
 * `tool_completed` `status: 'error'` and its circuit breaker counts the failure). With a `seed` the
 * roll is deterministic. Output `{ ok: true, roll, failureRate }`.
 */
export const flakyTool = defineTool({
  name: 'flaky',
  description:
    'Fails on purpose with the given probability, to show error handling and the circuit breaker. ' +
    'Pass a seed for a repeatable outcome.',
  input: flakyInput,
  access: 'user',
  timeoutMs: 2_000,
  run({ failureRate, seed }) {
    const roll = Math.round((seed === undefined ? Math.random() : seededRandom(seed)) * 1e6) / 1e6;
    if (roll < failureRate) {
      throw new DispatchError('TOOL_FAILED', `flaky failed on purpose (roll ${roll} < failureRate ${failureRate})`, {
        details: { reason: 'FLAKY_FAILURE', roll, failureRate },
      });
    }
    return { ok: true, roll, failureRate };
  },
});
