import type { RunStatus } from '@toolrun/api';

/**
 * The exit codes of `toolrun`, for scripts and CI: 0 only when the run completed (or the command
 * did what it was asked). Each terminal status of a run and each kind of refusal has its own code.
 */
export const EXIT = {
  /** The run completed; any other command succeeded. */
  ok: 0,
  /** Something unexpected: the server is unreachable, answered with a server error, … */
  error: 1,
  /** The command line is wrong: unknown option, input that is not JSON, unreadable input file. */
  usage: 2,
  /** The run ended `failed`. */
  failed: 3,
  /** The run ended `cancelled`. */
  cancelled: 4,
  /** The run ended `interrupted` (the server stopped while it ran). */
  interrupted: 5,
  /** The server refused the request: unknown agent or run, invalid input, a limit, not allowed. */
  refused: 6,
  /** Not signed in, or the token was refused (expired, wrong server): `toolrun login`. */
  unauthenticated: 7,
  /** Ctrl-C (or SIGINT/SIGTERM) before the run ended, and the run was left running (detached). */
  detached: 130,
} as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code of a run that ended with `status`. */
export function exitCodeOf(status: RunStatus): ExitCode {
  switch (status) {
    case 'completed':
      return EXIT.ok;
    case 'failed':
      return EXIT.failed;
    case 'cancelled':
      return EXIT.cancelled;
    case 'interrupted':
      return EXIT.interrupted;
    default: {
      const unreachable: never = status;
      throw new Error(`unknown run status ${String(unreachable)}`);
    }
  }
}
