import { TRPCError } from '@trpc/server';

/** The `TRPCError` a call rejects with; throws when it succeeds or rejects with anything else. For tests. */
export async function caught(call: Promise<unknown>): Promise<TRPCError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}
