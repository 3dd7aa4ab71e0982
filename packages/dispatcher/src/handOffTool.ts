import type { ActiveRun } from './ActiveRun.ts';
import type { ToolResult } from './defineAgent.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { redactWith } from './redact.ts';
import type { SubAgentCall } from './SubAgentCall.ts';
import { ToolCall } from './ToolCall.ts';

/** The prefix of a client tool's name in `tool_executing` and `tool_completed`. */
export const CLIENT_TOOL_PREFIX = 'client:';

const RUN_ENDED = Object.freeze({ code: 'RUN_FINISHED', message: 'the run has ended; the call was refused' });

/**
 * Records a call of a tool that the run's client executes, not Toolrun (an AG-UI frontend tool):
 * `tool_executing` (`tool: "client:<name>"`, the redacted input), then at once `tool_completed`
 * `status: 'cancelled'` with `error.code: 'CLIENT_TOOL'`. The call is complete as far as the run is
 * concerned (every ordering rule holds); its result comes back from the client in a later run on
 * the same thread. Internal: agents reach it as `ctx.handOffTool`.
 */
export function handOffTool(
  core: FactoryCore,
  run: ActiveRun,
  name: string,
  input: unknown,
  owner: SubAgentCall | undefined,
): ToolResult {
  // The name comes from a model or a client: cut it before it reaches an event or a log.
  const tool = `${CLIENT_TOOL_PREFIX}${String(name).slice(0, 120)}`;
  const call = new ToolCall(core, run, undefined, tool, core.clock.monotonic(), owner);
  const redacted = redactWith(input, core.limits.redaction);
  if (!run.emit({ type: 'tool_executing', callId: call.callId, tool, input: redacted }, call.minted, call.started)) {
    return { callId: call.callId, status: 'cancelled', error: RUN_ENDED, durationMs: 0 };
  }
  run.toolCalls += 1;
  return call.refuse({
    status: 'cancelled',
    code: 'CLIENT_TOOL',
    message: `handed to the client, which runs "${String(name).slice(0, 120)}" and answers in its next run on this thread`,
  });
}
