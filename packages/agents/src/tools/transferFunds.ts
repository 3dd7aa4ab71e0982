import { defineTool, type JsonValue } from '@toolrun/dispatcher';
import { z } from 'zod';
import type { ScratchpadStore } from '../ports.ts';

/** The scratchpad key where `transfer_funds` records the user's transfers (the newest last). */
export const TRANSFERS_KEY = 'payout.transfers';
/** How many transfers the record keeps. */
export const MAX_RECORDED_TRANSFERS = 20;

/** The `transfer_funds` tool's input. */
export const transferFundsInput = z
  .object({
    amount: z.number().positive().max(1_000_000).describe('How much to transfer'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'a three-letter currency code')
      .default('EUR'),
    to: z.string().min(1).max(64).describe('Who receives it'),
  })
  .strict();

/**
 * `transfer_funds`: a pretend payment that needs the run owner's approval before every call
 * (`approval: 'always'`). It records each transfer in the caller's scratchpad under
 * {@link TRANSFERS_KEY}, with the call id, so that a test can prove it ran exactly once or never.
 */
export function createTransferFundsTool(store: ScratchpadStore) {
  return defineTool({
    name: 'transfer_funds',
    description:
      'Transfers an amount to someone (a demo: it only records the transfer in your scratchpad). ' +
      'Every call waits for the run owner to approve it.',
    input: transferFundsInput,
    access: 'user',
    approval: 'always',
    approvers: 'owner',
    timeoutMs: 5_000,
    async run({ amount, currency, to }, { context, callId }) {
      const previous = await store.get(context.userId, TRANSFERS_KEY);
      const list = Array.isArray(previous) ? previous : [];
      const transfer: JsonValue = { callId, amount, currency, to, at: new Date().toISOString() };
      await store.set(context.userId, TRANSFERS_KEY, [...list.slice(1 - MAX_RECORDED_TRANSFERS), transfer]);
      return { transferred: true, callId, amount, currency, to };
    },
  });
}
