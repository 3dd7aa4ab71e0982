import { z } from 'zod';
import type { StartServerOptions } from '../../../src/index.ts';

type Agent = NonNullable<StartServerOptions['extraAgents']>[number];
type Tool = NonNullable<StartServerOptions['extraTools']>[number];

const pairInput = z.object({ first: z.number().positive(), second: z.number().positive() }).strict();

/** Test agent: two `transfer_funds` calls in parallel, so one run has two pending approvals. */
export const pairPayoutAgent: Agent = {
  name: 'pair_payout',
  description: 'Test agent: two transfers in parallel, each waiting for approval.',
  input: pairInput,
  async run(input, ctx) {
    const { first, second } = pairInput.parse(input);
    const results = await Promise.all([
      ctx.callTool('transfer_funds', { amount: first, to: 'first' }),
      ctx.callTool('transfer_funds', { amount: second, to: 'second' }),
    ]);
    return results.map((r) => r.status);
  },
};

/** Call ids `quick_transfer` ran for: proof that a call ran (once) or never. */
export const quickTransfersRan: string[] = [];

/** How long `quick_transfer` waits for its approval: short, so that decisions race the deadline. */
export const QUICK_APPROVAL_MS = 40;

/** Test tool: needs approval with a very short deadline. */
export const quickTransferTool: Tool = {
  name: 'quick_transfer',
  description: 'Test tool: a transfer whose approval expires almost at once.',
  input: z.object({ amount: z.number() }).strict(),
  access: 'user',
  approval: 'always',
  approvalTimeoutMs: QUICK_APPROVAL_MS,
  run(_input, { callId }) {
    quickTransfersRan.push(callId);
    return { ok: true };
  },
};

/** Test agent: one `quick_transfer` call. */
export const quickPayoutAgent: Agent = {
  name: 'quick_payout',
  description: 'Test agent: one quick_transfer.',
  input: z.object({}).strict(),
  async run(_input, ctx) {
    const result = await ctx.callTool('quick_transfer', { amount: 1 });
    return result.status;
  },
};
