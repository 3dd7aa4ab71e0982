import { type AgentContext, defineAgent, type JsonValue, type ToolResult } from '@toolrun/dispatcher';
import { z } from 'zod';
import { describeFailure, outputOf } from '../lib/toolResults.ts';

/** The payout agent's input; every field has a default, so `{}` starts it. */
export const payoutInput = z
  .object({
    amount: z.number().positive().max(10_000).default(25),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .default('EUR'),
    to: z.string().min(1).max(64).default('bob'),
  })
  .strict();

const transferOutput = z.object({ amount: z.number(), currency: z.string(), to: z.string() });

/**
 * `payout`: the human-approval demo. It calls `transfer_funds`, which waits for the run owner to
 * approve it; approved, the transfer is recorded; denied or expired, it is not. Resumable: a run
 * parked on the approval when the server stops continues at that call after the restart (its
 * `resume` awaits the stored call), and nothing before it runs again.
 */
export const payoutAgent = defineAgent({
  name: 'payout',
  description: 'Transfers funds once you approve it: a demo of human approval (approve or deny the pending call).',
  input: payoutInput,
  async run({ amount, currency, to }, ctx) {
    ctx.think(
      `Preparing a payout of ${amount} ${currency} to ${to}. transfer_funds needs your approval: ` +
        'approve or deny it in the console, or with approvals.decide.',
    );
    return finish(await ctx.callTool('transfer_funds', { amount, currency, to }), ctx);
  },
  async resume(state, ctx) {
    const call = state.pending.find((p) => p.tool === 'transfer_funds');
    if (call === undefined) throw new Error('the run was parked on no transfer_funds call');
    ctx.think('Resumed after a server restart at the pending transfer; nothing before it runs again.');
    return finish(await call.result, ctx);
  },
});

function finish(result: ToolResult, ctx: AgentContext): JsonValue {
  // A cancelled run must end cancelled, not complete with a partial answer.
  ctx.signal.throwIfAborted();
  const output = outputOf(result, transferOutput);
  if (output === undefined) {
    ctx.think(`The transfer did not happen: ${describeFailure(result)}.`);
    return { transferred: false, reason: result.status === 'success' ? 'unexpected output' : result.error.code };
  }
  ctx.think(`Transferred ${output.amount} ${output.currency} to ${output.to}.`);
  return { transferred: true, ...output };
}
