import { defineAgent } from '@toolrun/dispatcher';
import { z } from 'zod';

/** The flaky agent's input. Defaults fail the first 7 calls, enough to open a breaker of threshold 5. */
export const flakyAgentInput = z
  .object({
    calls: z
      .number()
      .int()
      .min(1)
      .max(30)
      .default(12)
      .describe('How many times to call the flaky tool, one after another'),
    failureRate: z.number().min(0).max(1).default(0.8),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 32)
      .default(1)
      .describe('Call i uses seed + i, so a run repeats exactly'),
  })
  .strict();

type Outcome = 'success' | 'failed' | 'circuit_open' | 'other';

/**
 * `flaky`: calls the `flaky` tool again and again, one call at a time, and counts how the calls
 * ended: succeeded, failed inside the tool (`tool_completed` `status: 'error'`), or refused by the
 * dispatcher's circuit breaker (error code `CIRCUIT_OPEN`, whatever the status) once enough
 * consecutive failures have opened it. Failed calls are expected here; the run itself completes with the tally.
 */
export const flakyAgent = defineAgent({
  name: 'flaky',
  description:
    "Calls a tool that fails on purpose until the dispatcher's circuit breaker opens, and counts the outcomes.",
  input: flakyAgentInput,
  async run({ calls, failureRate, seed }, ctx) {
    ctx.think(
      `Calling the flaky tool ${calls} times in a row with failureRate ${failureRate}. Each failure shows up as ` +
        "tool_completed with status error; after several failures in a row the dispatcher's circuit breaker " +
        'should open and refuse calls (code CIRCUIT_OPEN) without running the tool, to protect it.',
    );
    const outcomes: Outcome[] = [];
    let streak = 0;
    for (let i = 0; i < calls; i += 1) {
      const result = await ctx.callTool('flaky', { failureRate, seed: seed + i });
      ctx.signal.throwIfAborted();
      let outcome: Outcome;
      if (result.status === 'success') outcome = 'success';
      else if (result.error.code === 'CIRCUIT_OPEN') outcome = 'circuit_open';
      else if (result.status === 'error' && result.error.code === 'TOOL_FAILED') outcome = 'failed';
      else outcome = 'other';
      const previous = outcomes.at(-1);
      outcomes.push(outcome);
      if (outcome === 'failed') streak += 1;
      if (outcome === 'failed' && previous !== 'failed') {
        ctx.think(
          `Call ${i + 1} failed inside the tool. That is the point of this demo; I keep going to see how the dispatcher reacts.`,
        );
      } else if (outcome === 'circuit_open' && previous !== 'circuit_open') {
        ctx.think(
          `Call ${i + 1} was refused with CIRCUIT_OPEN after ${streak} failures: the breaker is open, so the dispatcher ` +
            'now answers at once without running the tool until its cool-down ends.',
        );
      } else if (outcome === 'success' && previous !== undefined && previous !== 'success') {
        ctx.think(`Call ${i + 1} succeeded again, which resets the run of failures.`);
      }
      if (outcome === 'success') streak = 0;
    }
    const count = (kind: Outcome) => outcomes.filter((outcome) => outcome === kind).length;
    const tally = {
      succeeded: count('success'),
      failed: count('failed'),
      circuitOpen: count('circuit_open'),
      other: count('other'),
    };
    ctx.think(
      `Done: ${tally.succeeded} succeeded, ${tally.failed} failed inside the tool` +
        `, ${tally.circuitOpen} were refused by the open circuit${tally.other > 0 ? `, ${tally.other} ended otherwise` : ''}.`,
    );
    return { calls, ...tally, outcomes };
  },
});
