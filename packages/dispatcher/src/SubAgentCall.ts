import { type ActiveRun, callStatusOf, type OpenCall, type RunOutcome, round } from './ActiveRun.ts';
import type { ToolResult } from './defineAgent.ts';
import { DispatchError } from './errors.ts';
import type { ErrorInfo, JsonValue } from './events.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { callIdFor, mintedBy } from './randomIds.ts';
import type { CallFailure } from './ToolCall.ts';

type Outcome = CallFailure | { readonly output: JsonValue; readonly value: unknown };

/**
 * A sub-agent at work inside its parent's run: one tool call of that run (`tool: "agent:<name>"`,
 * after its `tool_executing`), open until the sub-agent returns, fails, passes its own deadline, or
 * is stopped with its parent (the run aborting, or the parent sub-agent ending). Its own tool calls
 * and sub-agents are calls of the same run that it owns: it ends them (with the same reason when
 * the run stops, as cancelled otherwise) before its own `tool_completed`. Internal.
 */
export class SubAgentCall implements OpenCall {
  readonly callId: string;
  /** The call id's number when the package's own id source made it; else 0. */
  readonly minted: number;
  readonly #core: FactoryCore;
  readonly #run: ActiveRun;
  readonly #tool: string;
  // The metrics label: the tool, or "(unknown)" for an agent that does not exist.
  readonly #label: string;
  readonly #started: number;
  readonly #owner: SubAgentCall | undefined;
  readonly #controller = new AbortController();
  // Calls this sub-agent made that are still open, oldest first.
  #children: OpenCall[] = [];
  #settled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve: ((result: ToolResult) => void) | undefined;
  #result: ToolResult | undefined;

  constructor(core: FactoryCore, run: ActiveRun, tool: string, label: string, owner: SubAgentCall | undefined) {
    this.#core = core;
    this.#run = run;
    this.#tool = tool;
    this.#label = label;
    this.#owner = owner;
    this.#started = core.clock.monotonic();
    this.minted = mintedBy(core.ids);
    this.callId = callIdFor(core.ids, this.minted);
  }

  /** The sub-agent's signal: aborted when this call ends, for whatever reason. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the call has ended (its `tool_completed` emitted). */
  get settled(): boolean {
    return this.#settled;
  }

  /** Registers the call in flight (with the run and with its owner) and arms its own deadline, if any. */
  open(timeoutMs: number | undefined): void {
    this.#run.addCall(this);
    this.#owner?.addChild(this);
    // Bounded by the run's deadline: a longer timeout needs no timer, the run's deadline comes first.
    if (timeoutMs !== undefined && !this.#run.deadlineComesFirst(timeoutMs)) {
      this.#timer = setTimeout(SubAgentCall.#timedOut, timeoutMs, this, timeoutMs);
    }
  }

  /** Completes a call refused by a guard (it was never opened). */
  refuse(failure: CallFailure): ToolResult {
    this.#settle(failure, undefined);
    return this.#result as ToolResult;
  }

  /** Resolves once with the call's result. */
  result(): Promise<ToolResult> {
    if (this.#result) return Promise.resolve(this.#result);
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** A call this sub-agent made, in flight. */
  addChild(call: OpenCall): void {
    this.#children.push(call);
  }

  /** A call this sub-agent made has completed. */
  removeChild(call: OpenCall): void {
    const index = this.#children.indexOf(call);
    if (index !== -1) this.#children.splice(index, 1);
  }

  /** The run (or the parent sub-agent) stops for `reason`: the call ends now. */
  interrupt(reason: DispatchError): void {
    this.#settle({ status: callStatusOf(reason), code: reason.code, message: reason.message }, reason);
  }

  /** The sub-agent returned (`completed`, with its real result `value`) or failed. */
  agentEnded(outcome: RunOutcome, value: unknown): void {
    if (outcome.status === 'completed') this.#settle({ output: outcome.result, value }, undefined);
    else this.#settle({ status: 'error', code: 'AGENT_FAILED', message: outcome.error.message }, undefined);
  }

  static #timedOut(call: SubAgentCall, timeoutMs: number): void {
    call.#core.metrics.limitHit('TOOL_TIMEOUT');
    const message = `sub-agent "${call.#tool}" took over ${timeoutMs} ms`;
    call.#settle({ status: 'timeout', code: 'TOOL_TIMEOUT', message }, undefined);
  }

  // `reason`: why the run stopped, passed on to this call's own calls; otherwise they are cancelled.
  #settle(outcome: Outcome, reason: DispatchError | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const core = this.#core;
    const run = this.#run;
    run.removeCall(this);
    this.#owner?.removeChild(this);
    const now = core.clock.monotonic();
    const durationMs = round(now - this.#started);
    // Its own calls end first, so that its tool_completed closes everything it opened.
    const children = this.#children;
    this.#children = [];
    const childReason = reason ?? new DispatchError('CANCELLED', 'the sub-agent ended before this call completed');
    for (const child of children) child.interrupt(childReason);
    const stop = 'status' in outcome ? new DispatchError(outcome.code, outcome.message) : SUB_AGENT_DONE;
    this.#controller.abort(stop);
    const { callId } = this;
    const tool = this.#tool;
    let result: ToolResult;
    if ('status' in outcome) {
      const max = core.limits.redaction.maxStringLength;
      const message = outcome.message.length > max ? `${outcome.message.slice(0, max)}…` : outcome.message;
      const error: ErrorInfo = { code: outcome.code, message };
      run.emit({ type: 'tool_completed', callId, tool, status: outcome.status, error, durationMs }, 0, now);
      core.metrics.toolExecuted(this.#label, outcome.status, durationMs);
      result = { callId, status: outcome.status, error, durationMs };
    } else {
      run.emit({ type: 'tool_completed', callId, tool, status: 'success', output: outcome.output, durationMs }, 0, now);
      core.metrics.toolExecuted(this.#label, 'success', durationMs);
      result = { callId, status: 'success', output: (outcome.value ?? null) as JsonValue, durationMs };
    }
    this.#result = result;
    this.#resolve?.(result);
  }
}

// One shared reason: a sub-agent that returned should not pay for a stack trace.
const SUB_AGENT_DONE = new DispatchError('RUN_FINISHED', 'the sub-agent has ended');
