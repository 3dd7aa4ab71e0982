import type { CliContext } from '../CliContext.ts';
import type { ExitCode } from '../exitCodes.ts';

/**
 * Wraps a command's handler for commander: builds the {@link CliContext} from the global options,
 * runs the handler, and records its exit code (errors become readable messages and their codes).
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes each command's own argument types.
export type Action = <A extends any[]>(
  handler: (ctx: CliContext, ...args: A) => Promise<ExitCode>,
) => (...args: A) => Promise<void>;
