import { type ActiveRun, abortReason, outcomeOf, type RunOutcome } from './ActiveRun.ts';
import type { UserExecutionContext } from './context.ts';
import type { AgentContext, AnyAgent, ToolResult } from './defineAgent.ts';
import { dispatchSubAgent, type StartSubAgent } from './dispatchSubAgent.ts';
import { dispatchTool } from './dispatchTool.ts';
import { DispatchError, toDispatchError } from './errors.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { handOffTool } from './handOffTool.ts';
import { redactWith } from './redact.ts';
import type { SubAgentCall } from './SubAgentCall.ts';

const LATE = Object.freeze({ code: 'RUN_FINISHED', message: 'the run has ended; the call was not made' });

/** The result of a call an agent makes after its run (or its sub-agent call) ended: no events. */
export function lateCall(callId: string): ToolResult {
  return { callId, status: 'cancelled', error: LATE, durationMs: 0 };
}

/** Starts an agent in a microtask (a run's agent, or a sub-agent): the caller returns before any agent code runs. */
export function startAgent(agent: AgentRun): void {
  queueMicrotask(() => beginAgent(agent));
}

// Private to this module: the agent holds the object, so `begin` is not a method it could call.
let beginAgent: (run: AgentRun) => void;

const startSubAgent: StartSubAgent = (run, core, child, agent, data, call) =>
  startAgent(new AgentRun(run, core, child, agent, data, undefined, call));

/**
 * One agent as the agent sees it and as the runner drives it: what the agent's `run` receives (its
 * {@link AgentContext}), and what ends its work exactly once: with its result, with its failure, or,
 * as soon as it is stopped, with the stop's outcome (an agent that ignores its signal cannot hold a
 * run open). The agent of a run closes the run; a sub-agent (`call` given) completes its call in the
 * parent's run, where its thoughts and tool calls are events too (see README, "Sub-agents").
 *
 * One object per agent, frozen in its constructor (what the agent can reach cannot be changed); its
 * state is in private fields. `think` and `callTool` are own properties (bound methods), so an agent
 * may destructure or spread them; `callAgent` is a method. Its two public hooks are harmless in an
 * agent's hands: `aborted` acts only on a run that was aborted, `handleEvent` only once the caller's
 * signal has aborted. Internal.
 */
export class AgentRun implements AgentContext {
  static {
    beginAgent = (run) => run.#begin();
  }

  readonly context: UserExecutionContext;
  readonly think: (text: string) => void;
  readonly callTool: (name: string, input: unknown) => Promise<ToolResult>;
  readonly #run: ActiveRun;
  readonly #core: FactoryCore;
  readonly #agent: AnyAgent;
  readonly #signal: AbortSignal | undefined;
  readonly #call: SubAgentCall | undefined;
  #data: unknown;
  #begun = false;
  #finished = false;

  constructor(
    run: ActiveRun,
    core: FactoryCore,
    context: UserExecutionContext,
    agent: AnyAgent,
    data: unknown,
    signal: AbortSignal | undefined,
    call: SubAgentCall | undefined,
  ) {
    this.context = context;
    this.#run = run;
    this.#core = core;
    this.#agent = agent;
    this.#data = data;
    this.#signal = signal;
    this.#call = call;
    // Bound methods rather than arrows: no closure context per run.
    this.think = this.#thinkFor.bind(this);
    this.callTool = this.#callToolFor.bind(this);
    Object.freeze(this);
  }

  get signal(): AbortSignal {
    return this.#call ? this.#call.signal : this.#run.signal;
  }

  /**
   * Runs a registered agent as a sub-agent: a child context of this one (same user, run and roles, a
   * new request id, one level deeper; at most `MAX_CONTEXT_DEPTH`), its thoughts and tool calls
   * recorded in this run, the whole sub-agent one tool call of this run (`tool: "agent:<name>"`).
   */
  callAgent(name: string, input: unknown, opts?: { timeoutMs?: number }): Promise<ToolResult> {
    if (this.#ended()) return Promise.resolve(lateCall(this.#core.ids.callId()));
    const timeoutMs = opts?.timeoutMs;
    return dispatchSubAgent(this.#core, this.#run, this.context, this.#call, name, input, timeoutMs, startSubAgent);
  }

  /** Records a call of a tool the client executes (an AG-UI frontend tool); see `AgentContext.handOffTool`. */
  handOffTool(name: string, input: unknown): ToolResult {
    if (this.#ended()) return lateCall(this.#core.ids.callId());
    return handOffTool(this.#core, this.#run, name, input, this.#call);
  }

  // What an agent does after its run or its call ended is dropped here, quietly (no event can follow
  // agent_completed, nor belong to a finished call, and it is not the dispatcher's fault).
  #ended(): boolean {
    return this.#run.closed || (this.#call?.settled ?? false);
  }

  #thinkFor(text: string): void {
    if (!this.#ended()) this.#run.think(String(text));
  }

  #callToolFor(name: string, toolInput: unknown): Promise<ToolResult> {
    if (this.#ended()) return Promise.resolve(lateCall(this.#core.ids.callId()));
    return dispatchTool(this.#core, this.#run, this.context, name, toolInput, undefined, this.#call);
  }

  // Runs the agent (in a microtask after the run or the call started), once.
  #begin(): void {
    if (this.#finished || this.#begun) return;
    this.#begun = true;
    const data = this.#data;
    // The agent holds its input from here on; the run does not need to.
    this.#data = undefined;
    let value: unknown;
    try {
      value = this.#agent.run(data, this);
    } catch (error) {
      this.#failed(error);
      return;
    }
    // Bound methods rather than arrows: no closure context per run.
    if (isThenable(value)) value.then(this.#succeeded.bind(this), this.#failed.bind(this));
    else this.#succeeded(value);
  }

  /** For the run, once aborted: it ends now (in a microtask), whatever the agent does. */
  aborted(): void {
    if (this.#run.abortedBy) queueMicrotask(() => this.#finish(undefined));
  }

  /** For the caller's signal (this is its listener): it aborted, so the run is cancelled. */
  handleEvent(): void {
    const signal = this.#signal;
    if (signal?.aborted) this.#run.abort(new DispatchError('CANCELLED', abortReason(signal).message));
  }

  // Stopped first (the run aborted, or the call ended): the stop decides, not what came later.
  #stopped(): boolean {
    return this.#call ? this.#call.settled : this.#run.abortedBy !== undefined;
  }

  #succeeded(value: unknown): void {
    if (this.#finished) return;
    if (this.#stopped()) {
      this.#finish(undefined);
      return;
    }
    let outcome: RunOutcome;
    try {
      outcome = { status: 'completed', result: redactWith(value, this.#core.limits.redaction) };
    } catch (error) {
      this.#failed(error);
      return;
    }
    // A sub-agent's caller gets its real result, as a tool's caller gets the tool's real output.
    this.#finish(outcome, value);
  }

  #failed(error: unknown): void {
    if (this.#finished) return;
    if (this.#stopped()) {
      this.#finish(undefined);
      return;
    }
    const failure = toDispatchError(error, 'AGENT_FAILED');
    const message = redactWith(failure.message, this.#core.limits.redaction) as string;
    this.#finish({ status: 'failed', error: { code: failure.code, message } });
  }

  // `undefined`: the outcome of the stop (the run's abort, or however the call ended).
  #finish(outcome: RunOutcome | undefined, value?: unknown): void {
    if (this.#finished) return;
    const call = this.#call;
    if (call) {
      this.#finished = true;
      if (outcome) call.agentEnded(outcome, value);
      return;
    }
    const run = this.#run;
    const aborted = run.abortedBy;
    if (outcome === undefined && !aborted) return;
    this.#finished = true;
    run.driver = undefined;
    run.close(outcome ?? outcomeOf(aborted as DispatchError));
    this.#signal?.removeEventListener('abort', this);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
