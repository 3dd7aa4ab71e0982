import { z } from 'zod';
import { isAdmin, type UserExecutionContext } from './context.ts';
import type { AnyAgent } from './defineAgent.ts';
import { DispatchError, toDispatchError } from './errors.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { formatIssues } from './formatIssues.ts';
import { jsonLength } from './jsonLength.ts';
import { NAME_PATTERN } from './validateDefinition.ts';

/**
 * Checks that `context` may start `agent` with `input` (a definition, access, input size, input
 * schema) and returns the parsed input; throws a {@link DispatchError} otherwise. For runs and
 * sub-agents. Internal.
 */
export function checkAgentStart(
  core: FactoryCore,
  context: UserExecutionContext,
  agent: AnyAgent,
  input: unknown,
): unknown {
  if (
    typeof agent !== 'object' ||
    agent === null ||
    typeof agent.name !== 'string' ||
    !NAME_PATTERN.test(agent.name) ||
    !(agent.input instanceof z.ZodType) ||
    typeof agent.run !== 'function'
  ) {
    throw new DispatchError('INVALID_REGISTRY', 'not an agent definition (see defineAgent)');
  }
  if (agent.access === 'admin' && !isAdmin(context)) {
    throw new DispatchError('ACCESS_DENIED', `agent "${agent.name}" requires the admin role`);
  }
  const max = core.limits.maxInputChars;
  if (max !== Number.POSITIVE_INFINITY && jsonLength(input, max) > max) {
    core.metrics.limitHit('INPUT_TOO_LARGE');
    throw new DispatchError('INPUT_TOO_LARGE', `input is over ${max} characters as JSON`);
  }
  let parsed: ReturnType<typeof agent.input.safeParse>;
  try {
    parsed = agent.input.safeParse(input);
  } catch (error) {
    throw new DispatchError('INVALID_INPUT', `invalid input: ${toDispatchError(error, 'INVALID_INPUT').message}`);
  }
  if (!parsed.success) {
    throw new DispatchError('INVALID_INPUT', `invalid input: ${formatIssues(parsed.error.issues)}`, {
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}
