import type { ActiveRun } from './ActiveRun.ts';
import { abortReason, callStatusOf } from './ActiveRun.ts';
import { deskOf } from './approval/ApprovalDesk.ts';
import { isAdmin, type UserExecutionContext } from './context.ts';
import type { ToolResult } from './defineAgent.ts';
import { toDispatchError } from './errors.ts';
import type { EventEnvelope, ToolExecutingEvent } from './events.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { formatIssues } from './formatIssues.ts';
import { jsonLength } from './jsonLength.ts';
import type { CircuitBreaker } from './limits/CircuitBreaker.ts';
import { redactWith } from './redact.ts';
import type { SubAgentCall } from './SubAgentCall.ts';
import { type CallFailure, ToolCall } from './ToolCall.ts';

const RUN_ENDED = Object.freeze({ code: 'RUN_FINISHED', message: 'the run has ended; the call was refused' });

/**
 * Dispatches one tool call within a run, through every guard, and always emits `tool_executing`
 * then exactly one `tool_completed` (unless the run has already ended, when the state machine
 * refuses the call, counts it, and it resolves as cancelled). Never rejects. Internal.
 *
 * Guards, in order: unknown tool, admin-only tool, input size, input schema, run stopped or
 * caller's signal aborted, rate limit, parallel calls in the run, circuit breaker. A call made by a
 * sub-agent belongs to its `owner` too, which ends it when the sub-agent ends.
 */
export function dispatchTool(
  core: FactoryCore,
  run: ActiveRun,
  context: UserExecutionContext,
  name: string,
  input: unknown,
  callerSignal: AbortSignal | undefined,
  owner?: SubAgentCall,
): Promise<ToolResult> {
  const entry = typeof name === 'string' ? core.tools.entry(name) : undefined;
  // An unknown name comes from the caller: cut it before it reaches an event or a log.
  const tool = entry ? entry.tool.name : String(name).slice(0, 128);
  const call = new ToolCall(core, run, entry, tool, core.clock.monotonic(), owner);
  const body: Omit<ToolExecutingEvent, keyof EventEnvelope> = {
    type: 'tool_executing',
    callId: call.callId,
    tool,
    input: redactWith(input, core.limits.redaction, entry?.sensitive),
  };
  if (owner !== undefined) body.parentCallId = owner.callId;
  const executing = run.emit(body, call.minted, call.started);
  if (!executing) return Promise.resolve({ callId: call.callId, status: 'cancelled', error: RUN_ENDED, durationMs: 0 });
  run.toolCalls += 1;
  const checked = guard(call, context, input, callerSignal);
  if ('status' in checked) return Promise.resolve(call.refuse(checked));
  // A tool that may need a person's approval parks the call first (README, "Approvals").
  if (entry?.tool.approval !== undefined) {
    const desk = deskOf(core);
    if (desk.needs(entry, checked.data, context)) {
      const { data, breaker } = checked;
      return desk.hold({ call, context, input, data, breaker, callerSignal });
    }
  }
  return call.start(context, checked.data, checked.breaker, callerSignal);
}

function guard(
  call: ToolCall,
  context: UserExecutionContext,
  input: unknown,
  callerSignal: AbortSignal | undefined,
): CallFailure | { data: unknown; breaker: CircuitBreaker } {
  const { core, run, entry, tool } = call;
  if (!entry) return { status: 'error', code: 'UNKNOWN_TOOL', message: `no tool named ${JSON.stringify(tool)}` };
  const disabled = core.toolSwitch?.disabledReason(tool);
  if (disabled !== undefined) {
    return { status: 'error', code: 'TOOL_DISABLED', message: `tool "${tool}" is disabled by an admin: ${disabled}` };
  }
  if (entry.tool.access === 'admin' && !isAdmin(context)) {
    return { status: 'denied', code: 'ACCESS_DENIED', message: `tool "${tool}" requires the admin role` };
  }
  const max = core.limits.maxInputChars;
  if (max !== Number.POSITIVE_INFINITY && jsonLength(input, max) > max) {
    return { status: 'error', code: 'INPUT_TOO_LARGE', message: `input is over ${max} characters as JSON` };
  }
  let parsed: ReturnType<typeof entry.tool.input.safeParse>;
  try {
    parsed = entry.tool.input.safeParse(input);
  } catch (error) {
    // An asynchronous refinement cannot run in a synchronous parse.
    const message = `invalid input: ${toDispatchError(error, 'INVALID_INPUT').message}`;
    return { status: 'error', code: 'INVALID_INPUT', message };
  }
  if (!parsed.success) {
    return { status: 'error', code: 'INVALID_INPUT', message: `invalid input: ${formatIssues(parsed.error.issues)}` };
  }
  const stopped = run.abortedBy;
  if (stopped) return { status: callStatusOf(stopped), code: stopped.code, message: stopped.message };
  if (callerSignal?.aborted) {
    return { status: 'cancelled', code: 'CANCELLED', message: abortReason(callerSignal).message };
  }
  // The call's start time serves every guard: one clock read instead of three.
  const wait = core.takeToken(context, call.started);
  if (wait > 0) return { status: 'denied', code: 'RATE_LIMITED', message: `rate limit reached; retry in ${wait} ms` };
  const limit = core.limits.maxParallelToolCalls;
  const inFlight = run.inFlight;
  if (inFlight >= limit) {
    const message = `${inFlight} tool calls already in flight in this run (limit ${limit})`;
    return { status: 'denied', code: 'PARALLEL_CALL_LIMIT', message };
  }
  const breaker = core.breaker(tool);
  const cooldown = breaker.admit(call.started);
  if (cooldown > 0) {
    return { status: 'denied', code: 'CIRCUIT_OPEN', message: `tool "${tool}" keeps failing; retry in ${cooldown} ms` };
  }
  return { data: parsed.data, breaker };
}
