import type { RunAgentInput } from '@ag-ui/core';
import { RunAgentInputSchema } from '@ag-ui/core/schemas';
import { idProblem } from '@toolrun/dispatcher';

/** A request the endpoint refuses, with the status and the readable reason it answers. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
}

/**
 * Validates a request body with the protocol's own `RunAgentInputSchema`, then checks that `threadId`
 * is a valid Toolrun id (AG-UI clients often send placeholders, which Toolrun refuses for any
 * context). A refusal lists every issue as `path: message`, one per line.
 */
export function readRunAgentInput(body: unknown): { input: RunAgentInput } | { refusal: Refusal } {
  const parsed = RunAgentInputSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 20)
      .map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`);
    return { refusal: { status: 400, message: `the body is not a valid RunAgentInput:\n${issues.join('\n')}` } };
  }
  const problem = idProblem(parsed.data.threadId);
  if (problem !== undefined) {
    const message = `threadId: ${problem} (a Toolrun thread id: no placeholders such as "default")`;
    return { refusal: { status: 400, message } };
  }
  return { input: parsed.data as RunAgentInput };
}
