import { AgentRun, startAgent } from '../AgentRun.ts';
import { createUserExecutionContext, type Role } from '../context.ts';
import type { AgentContext, AnyAgent, ResumedCall, ToolResult } from '../defineAgent.ts';
import { DispatchError } from '../errors.ts';
import type { AgentCompletedEvent, JsonValue } from '../events.ts';
import type { FactoryCore } from '../FactoryCore.ts';
import { formatIssues } from '../formatIssues.ts';
import { isScope, openScope, SCOPE_INTERNALS } from '../scopedDispatcher.ts';
import { ToolCall } from '../ToolCall.ts';
import { deskOf } from './ApprovalDesk.ts';

/** A call that was waiting for approval when its process stopped, as the store kept it. */
export interface ParkedCall {
  readonly approvalId: string;
  readonly callId: string;
  readonly tool: string;
  /** The input the agent passed (unredacted): the call runs with it once approved. */
  readonly callInput: JsonValue;
  readonly expiresAtMs: number;
}

/** A run that was waiting for approval when its process stopped: where its events left off. */
export interface ParkedRun {
  readonly runId: string;
  readonly userId: string;
  readonly threadId: string;
  readonly agent: string;
  readonly roles: readonly Role[];
  /** The run's input as stored (redacted). */
  readonly input: JsonValue;
  readonly startedAtMs: number;
  /** Seq of the run's last stored event: the next one is `lastSeq + 1`. */
  readonly lastSeq: number;
  readonly toolCalls: number;
  /** Its open calls, every one waiting for approval, oldest first. */
  readonly pending: readonly ParkedCall[];
}

/**
 * Continues a parked run in this process (after a restart): the run's channel goes on at
 * `lastSeq + 1` with its waiting calls open, each waits for its approval again (a `requested`
 * thought, the stored deadline), and the agent's `resume` gets their results; nothing the agent did
 * before the pause runs again. Throws `UNKNOWN_AGENT` / `INVALID_REGISTRY` (the agent has no
 * `resume`) before anything happens. Resolves with the run's `agent_completed`.
 */
export function resumeParkedRun(core: FactoryCore, parked: ParkedRun): { done: Promise<AgentCompletedEvent> } {
  const agent = core.agents.get(parked.agent);
  if (agent === undefined) throw new DispatchError('UNKNOWN_AGENT', `no agent named ${parked.agent}`);
  const resume = agent.resume;
  if (resume === undefined) throw new DispatchError('INVALID_REGISTRY', `agent ${agent.name} cannot be resumed`);
  const context = createUserExecutionContext({
    userId: parked.userId,
    threadId: parked.threadId,
    runId: parked.runId,
    requestId: core.ids.requestId(),
    roles: parked.roles,
  });
  core.reserveRun(context, true);
  const scope = openScope(core, context, false);
  if (!isScope(scope)) throw new DispatchError('INVALID_SCOPE', 'openScope returned something else');
  const internals = scope[SCOPE_INTERNALS];
  const run = core.createRun(context, agent.name, 'agent');
  internals.attachRun(run);
  internals.ownedBy(run);
  run.resume({
    lastSeq: parked.lastSeq,
    startedAtMs: parked.startedAtMs,
    toolCalls: parked.toolCalls,
    open: parked.pending.map(({ callId, tool }) => ({ callId, tool })),
  });
  const desk = deskOf(core);
  const pending: ResumedCall[] = parked.pending.map((p) => {
    const entry = core.tools.entry(p.tool);
    const call = new ToolCall(core, run, entry, p.tool, core.clock.monotonic(), undefined, p.callId);
    let result: Promise<ToolResult>;
    const parsed = entry?.tool.input.safeParse(p.callInput);
    if (entry === undefined) {
      result = Promise.resolve(call.refuse({ status: 'error', code: 'UNKNOWN_TOOL', message: `no tool ${p.tool}` }));
    } else if (parsed === undefined || !parsed.success) {
      const message = `invalid input: ${parsed ? formatIssues(parsed.error.issues) : 'unreadable'}`;
      result = Promise.resolve(call.refuse({ status: 'error', code: 'INVALID_INPUT', message }));
    } else {
      result = desk.hold({
        call,
        context,
        input: p.callInput,
        data: parsed.data,
        breaker: core.breaker(p.tool),
        callerSignal: undefined,
        resumed: { id: p.approvalId, expiresAtMs: p.expiresAtMs },
      });
    }
    return Object.freeze({ callId: p.callId, tool: p.tool, approvalId: p.approvalId, input: p.callInput, result });
  });
  const state = Object.freeze({ input: parked.input, pending: Object.freeze(pending) });
  // The runner drives `run`; a resumed run's `run` is the agent's `resume` with its saved state.
  const resumed: AnyAgent = Object.freeze({
    ...agent,
    run: (_data: unknown, ctx: AgentContext) => resume.call(agent, state, ctx),
  });
  const driver = new AgentRun(run, core, context, resumed, undefined, undefined, undefined);
  run.driver = driver;
  startAgent(driver);
  return { done: run.done };
}
