import { TRPCError } from '@trpc/server';

/** Throws a `BAD_REQUEST` carrying one issue at `path`, like a failed schema would. */
export function badInput(path: readonly (string | number)[], message: string): never {
  const cause = Object.assign(new Error(message), { issues: [{ path: [...path], message, code: 'custom' }] });
  throw new TRPCError({ code: 'BAD_REQUEST', message: `${path.join('.') || '(input)'}: ${message}`, cause });
}
