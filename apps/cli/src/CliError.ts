import { TRPCClientError } from '@trpc/client';
import { EXIT, type ExitCode } from './exitCodes.ts';

/** A failure of the command that we can explain in one readable message, with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** A machine code for `--json` output: a tRPC code (`NOT_FOUND`, …) or the CLI's own (`USAGE`, …). */
    readonly code: string,
  ) {
    super(message);
  }
}

const REFUSALS = new Set([
  'BAD_REQUEST',
  'NOT_FOUND',
  'FORBIDDEN',
  'TOO_MANY_REQUESTS',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'PRECONDITION_FAILED',
  'UNPROCESSABLE_CONTENT',
  'METHOD_NOT_SUPPORTED',
]);

/** One problem with an input, as `BAD_REQUEST` errors carry it (`InputIssue` of `@toolrun/api`). */
interface Issue {
  path: string;
  message: string;
}

function issuesOf(data: unknown): Issue[] {
  if (typeof data !== 'object' || data === null) return [];
  const issues = (data as { issues?: unknown }).issues;
  if (!Array.isArray(issues)) return [];
  return issues.filter(
    (issue): issue is Issue =>
      typeof issue === 'object' &&
      issue !== null &&
      typeof (issue as Issue).message === 'string' &&
      typeof (issue as Issue).path === 'string',
  );
}

/**
 * Turns anything thrown into a {@link CliError}: tRPC errors by code (refusals exit 6, a refused token
 * 7), an unreachable server with the URL and what to do, the rest as unexpected (exit 1).
 */
export function toCliError(error: unknown, url: string): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof TRPCClientError) {
    const data: unknown = error.data;
    const code = typeof data === 'object' && data !== null ? (data as { code?: unknown }).code : undefined;
    if (typeof code === 'string') {
      const issues = issuesOf(data);
      const message =
        issues.length > 0 && issues.some((i) => !error.message.includes(i.message))
          ? `${error.message}\n${issues.map((i) => `  - ${i.path === '' ? '' : `${i.path}: `}${i.message}`).join('\n')}`
          : error.message;
      if (code === 'UNAUTHORIZED') {
        return new CliError(`${message}\nSign in with: toolrun login <userId>`, EXIT.unauthenticated, code);
      }
      if (REFUSALS.has(code)) return new CliError(message, EXIT.refused, code);
      return new CliError(`the server answered ${code}: ${message}`, EXIT.error, code);
    }
    // No tRPC error shape: the request never reached a Toolrun server.
    return new CliError(
      `cannot reach a Toolrun server at ${url} (${causeOf(error)}). Is it running? Start one with: pnpm start`,
      EXIT.error,
      'UNREACHABLE',
    );
  }
  return new CliError(error instanceof Error ? error.message : String(error), EXIT.error, 'UNEXPECTED');
}

function causeOf(error: Error): string {
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const inner: unknown = cause.cause;
    if (inner instanceof Error) return inner.message;
    return cause.message;
  }
  return error.message;
}
