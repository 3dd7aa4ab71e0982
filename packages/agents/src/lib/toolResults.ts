import type { ToolResult } from '@toolrun/dispatcher';
import type { z } from 'zod';

/**
 * The output of a successful call, checked against the shape the agent expects; `undefined` when
 * the call failed or returned something else (a replaced tool, say), so agents never trust blindly.
 */
export function outputOf<T>(result: ToolResult, schema: z.ZodType<T>): T | undefined {
  if (result.status !== 'success') return undefined;
  const parsed = schema.safeParse(result.output);
  return parsed.success ? parsed.data : undefined;
}

/** A short readable account of how a call went wrong, for thinking texts and results. */
export function describeFailure(result: ToolResult): string {
  if (result.status === 'success') return 'it returned output of an unexpected shape';
  return `${result.status} (${result.error.code}): ${result.error.message}`;
}
