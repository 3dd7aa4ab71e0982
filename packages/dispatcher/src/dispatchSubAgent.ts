import { type ActiveRun, callStatusOf } from './ActiveRun.ts';
import { checkAgentStart } from './checkAgentStart.ts';
import { createChildContext, type UserExecutionContext } from './context.ts';
import type { AnyAgent, ToolResult } from './defineAgent.ts';
import { isDispatchError, toDispatchError } from './errors.ts';
import type { EventEnvelope, ToolExecutingEvent } from './events.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { MAX_TIMER_MS } from './limits/limits.ts';
import { redactWith } from './redact.ts';
import { SubAgentCall } from './SubAgentCall.ts';
import { type CallFailure, UNKNOWN_TOOL_LABEL } from './ToolCall.ts';

/** Starts `agent` on `data` as the sub-agent of `call`, with the child context `child` (the runner's part). */
export type StartSubAgent = (
  run: ActiveRun,
  core: FactoryCore,
  child: UserExecutionContext,
  agent: AnyAgent,
  data: unknown,
  call: SubAgentCall,
) => void;

const RUN_ENDED = Object.freeze({ code: 'RUN_FINISHED', message: 'the run has ended; the call was refused' });

/** The `tool` of the calls that run the agent `name` as a sub-agent. */
export function subAgentLabel(name: string): string {
  return `agent:${name}`;
}

/**
 * Runs the registered agent `name` as a sub-agent of an agent working in `run` (with `context`; as
 * part of the sub-agent call `owner`, if that agent is itself a sub-agent). Like a tool call, it
 * emits `tool_executing` (`tool: "agent:<name>"`), then exactly one `tool_completed`, and never
 * rejects. Guards, in order: unknown agent (`UNKNOWN_AGENT`), admin-only agent (`ACCESS_DENIED`),
 * input size and schema, depth (`INVALID_CONTEXT`, past `MAX_CONTEXT_DEPTH`), run stopped, rate
 * limit (a sub-agent start takes a token, as a run start does), parallel calls in the run. Internal.
 */
export function dispatchSubAgent(
  core: FactoryCore,
  run: ActiveRun,
  context: UserExecutionContext,
  owner: SubAgentCall | undefined,
  name: string,
  input: unknown,
  timeoutMs: number | undefined,
  start: StartSubAgent,
): Promise<ToolResult> {
  const agent = typeof name === 'string' ? core.agents.get(name) : undefined;
  // An unknown name comes from the caller: cut it before it reaches an event or a log.
  const tool = agent ? subAgentLabel(agent.name) : subAgentLabel(String(name).slice(0, 128));
  const call = new SubAgentCall(core, run, tool, agent ? tool : UNKNOWN_TOOL_LABEL, owner);
  const body: Omit<ToolExecutingEvent, keyof EventEnvelope> = {
    type: 'tool_executing',
    callId: call.callId,
    tool,
    input: redactWith(input, core.limits.redaction),
  };
  if (owner !== undefined) body.parentCallId = owner.callId;
  const executing = run.emit(body, call.minted);
  if (!executing) return Promise.resolve({ callId: call.callId, status: 'cancelled', error: RUN_ENDED, durationMs: 0 });
  run.toolCalls += 1;
  const refused = (failure: CallFailure): Promise<ToolResult> => Promise.resolve(call.refuse(failure));
  if (!agent)
    return refused({ status: 'error', code: 'UNKNOWN_AGENT', message: `no agent named ${JSON.stringify(tool)}` });
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
    const message = `timeoutMs must be a positive number of milliseconds up to ${MAX_TIMER_MS}`;
    return refused({ status: 'error', code: 'INVALID_INPUT', message });
  }
  let data: unknown;
  let child: UserExecutionContext;
  try {
    data = checkAgentStart(core, context, agent, input);
    child = createChildContext(context);
  } catch (error) {
    const failure = toDispatchError(error, 'INVALID_INPUT');
    const denied = isDispatchError(error) && (failure.code === 'ACCESS_DENIED' || failure.code === 'INVALID_CONTEXT');
    return refused({ status: denied ? 'denied' : 'error', code: failure.code, message: failure.message });
  }
  const stopped = run.abortedBy;
  if (stopped) return refused({ status: callStatusOf(stopped), code: stopped.code, message: stopped.message });
  const wait = core.takeToken(child);
  if (wait > 0)
    return refused({ status: 'denied', code: 'RATE_LIMITED', message: `rate limit reached; retry in ${wait} ms` });
  const limit = core.limits.maxParallelToolCalls;
  if (run.inFlight >= limit) {
    core.metrics.limitHit('PARALLEL_CALL_LIMIT');
    const message = `${run.inFlight} tool calls already in flight in this run (limit ${limit})`;
    return refused({ status: 'denied', code: 'PARALLEL_CALL_LIMIT', message });
  }
  call.open(timeoutMs);
  start(run, core, child, agent, data, call);
  return call.result();
}
