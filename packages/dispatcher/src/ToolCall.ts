import { type ActiveRun, abortReason, callStatusOf, type OpenCall, round } from './ActiveRun.ts';
import type { UserExecutionContext } from './context.ts';
import type { ToolResult } from './defineAgent.ts';
import type { HeartbeatDetails, ToolRunContext } from './defineTool.ts';
import { DispatchError, type DispatchErrorCode, toDispatchError } from './errors.ts';
import type { ErrorInfo, JsonValue, ToolCallStatus, ToolProgress } from './events.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { formatIssues } from './formatIssues.ts';
import { type HeartbeatTarget, HeartbeatWatch } from './heartbeat/HeartbeatWatch.ts';
import type { CircuitBreaker } from './limits/CircuitBreaker.ts';
import type { TraceContext } from './ports.ts';
import { callIdFor, mintedBy } from './randomIds.ts';
import { redactWith } from './redact.ts';
import type { SubAgentCall } from './SubAgentCall.ts';
import type { ToolEntry } from './toolRegistry.ts';

/** The metrics label for calls to a tool (or agent) that does not exist, so that callers cannot mint labels. */
export const UNKNOWN_TOOL_LABEL = '(unknown)';

/** How a call ended without output. */
export interface CallFailure {
  readonly status: Exclude<ToolCallStatus, 'success'>;
  readonly code: DispatchErrorCode;
  readonly message: string;
  readonly details?: JsonValue;
}

type Outcome = CallFailure | { readonly output: unknown };
type Verdict = 'success' | 'failure' | 'neutral';

// Refusals that are limits count as limit hits here; rate limits and timeouts where they happen.
const LIMIT_CODES: ReadonlySet<DispatchErrorCode> = new Set(['INPUT_TOO_LARGE', 'PARALLEL_CALL_LIMIT', 'CIRCUIT_OPEN']);

/** What a tool's `run` receives: the context, the call id and a signal. Nothing else is reachable. */
class ToolCallContext implements ToolRunContext {
  readonly context: UserExecutionContext;
  readonly callId: string;
  readonly #call: ToolCall;

  constructor(call: ToolCall, context: UserExecutionContext) {
    this.#call = call;
    this.context = context;
    this.callId = call.callId;
    Object.freeze(this);
  }

  get signal(): AbortSignal {
    return this.#call.signal;
  }

  get idempotencyKey(): string {
    return `${this.context.runId}:${this.callId}`;
  }

  // A getter returning a bound function: a tool may destructure `{ heartbeat }`, and only a tool that
  // reads it pays for the binding.
  get heartbeat(): (details?: HeartbeatDetails) => void {
    return this.#call.boundHeartbeat;
  }

  // Asked only when a tool reads it: a call whose tool passes no trace context on pays nothing.
  get traceContext(): TraceContext | undefined {
    return this.#call.core.tracing?.traceContextOf({ runId: this.context.runId, callId: this.callId });
  }
}

/**
 * One tool call after its `tool_executing`: either refused at once, or run with its timeout,
 * caller signal and run interruption, and completed exactly once with its `tool_completed`.
 * A class rather than closures: the hot path allocates one object per call. Internal.
 */
export class ToolCall implements OpenCall, HeartbeatTarget {
  readonly callId: string;
  #settled = false;
  // Created when the tool first reads ctx.signal: a tool that never looks pays nothing for it.
  #controller: AbortController | undefined;
  #stopReason: DispatchError | undefined;
  // Why the call stopped, kept as data until a tool asks for its signal (no error object before).
  #stopOutcome: CallFailure | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolve: ((result: ToolResult) => void) | undefined;
  // The result, once settled, for a start() that returns after the call already ended.
  #result: ToolResult | undefined;
  #breaker: CircuitBreaker | undefined;
  #callerSignal: AbortSignal | undefined;
  // Only for calls whose tool heartbeats or promises to (see heartbeat/HeartbeatWatch).
  #watch: HeartbeatWatch | undefined;
  #settledAt = 0;
  #boundHeartbeat: ((details?: HeartbeatDetails) => void) | undefined;

  /** The call id's number when the package's own id source made it (see RunStateMachine); else 0. */
  readonly minted: number;

  constructor(
    readonly core: FactoryCore,
    readonly run: ActiveRun,
    readonly entry: ToolEntry | undefined,
    readonly tool: string,
    readonly started: number,
    readonly owner: SubAgentCall | undefined,
    // The id of a call stored by an earlier process, resumed after a restart (README, "Approvals").
    resumedCallId?: string,
  ) {
    this.minted = resumedCallId === undefined ? mintedBy(core.ids) : 0;
    this.callId = resumedCallId ?? callIdFor(core.ids, this.minted);
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      const stopped = this.#stopOutcome;
      if (stopped) this.#stopReason = new DispatchError(stopped.code, stopped.message);
      if (this.#stopReason) this.#controller.abort(this.#stopReason);
    }
    return this.#controller.signal;
  }

  /** Completes a call refused by a guard. */
  refuse(failure: CallFailure): ToolResult {
    this.#settled = true;
    return this.#complete(failure);
  }

  /**
   * Runs the tool; resolves once with the call's result. A tool that returns synchronously is
   * settled before this returns (no executor, no timer); only a pending tool gets a promise of its own.
   */
  start(
    context: UserExecutionContext,
    data: unknown,
    breaker: CircuitBreaker,
    callerSignal: AbortSignal | undefined,
  ): Promise<ToolResult> {
    const entry = this.entry as ToolEntry;
    this.#breaker = breaker;
    this.run.addCall(this);
    this.owner?.addChild(this);
    if (callerSignal) {
      this.#callerSignal = callerSignal;
      // The call itself listens (handleEvent): no closure per call.
      callerSignal.addEventListener('abort', this, { once: true });
    }
    let value: unknown;
    try {
      value = entry.tool.run(data, new ToolCallContext(this, context));
    } catch (error) {
      this.#fail(error);
      return Promise.resolve(this.#result as ToolResult);
    }
    if (!isThenable(value)) {
      this.#succeed(value);
      return Promise.resolve(this.#result as ToolResult);
    }
    return this.#await(value, entry.timeoutMs);
  }

  /** For the caller's signal (the call is its listener): the caller gave up on the call. */
  handleEvent(): void {
    const message = this.#callerSignal ? abortReason(this.#callerSignal).message : 'cancelled';
    this.#settle({ status: 'cancelled', code: 'CANCELLED', message }, 'neutral');
  }

  // Only a pending tool gets here. Bound methods rather than arrows: no closure context per call.
  #await(value: PromiseLike<unknown>, timeoutMs: number): Promise<ToolResult> {
    value.then(this.#succeed.bind(this), this.#fail.bind(this));
    // Settled while the tool was starting (its run or its caller aborted): nothing to wait for.
    if (this.#result) return Promise.resolve(this.#result);
    const heartbeatTimeoutMs = (this.entry as ToolEntry).heartbeatTimeoutMs;
    if (heartbeatTimeoutMs !== undefined) {
      this.#watch ??= new HeartbeatWatch(this, heartbeatTimeoutMs);
      this.#watch.arm();
    }
    // The run's deadline stops this call anyway when it comes first: no timer of its own then.
    if (!this.run.deadlineComesFirst(timeoutMs)) {
      this.#timer = setTimeout(ToolCall.#timedOut, timeoutMs, this);
    }
    return new Promise<ToolResult>((resolve) => {
      this.#resolve = resolve;
    });
  }

  // Static, with the call as the timer's argument: no closure per timer.
  static #timedOut(call: ToolCall): void {
    call.core.metrics.limitHit('TOOL_TIMEOUT');
    const message = `tool "${call.tool}" took over ${(call.entry as ToolEntry).timeoutMs} ms`;
    call.#settle({ status: 'timeout', code: 'TOOL_TIMEOUT', message }, 'failure');
  }

  /** {@link heartbeat} bound to this call, made on first use. */
  get boundHeartbeat(): (details?: HeartbeatDetails) => void {
    this.#boundHeartbeat ??= this.heartbeat.bind(this);
    return this.#boundHeartbeat;
  }

  /** From the tool (`ctx.heartbeat`): it is alive. Ignored once the call has ended. */
  heartbeat(details: HeartbeatDetails | undefined): void {
    if (this.#settled) return;
    this.#watch ??= new HeartbeatWatch(this, this.entry?.heartbeatTimeoutMs);
    this.#watch.beat(details, this.core.clock.monotonic());
  }

  /** For the watch: the tool went silent for longer than its heartbeat timeout. */
  stalled(): void {
    const watch = this.#watch;
    if (this.#settled || !watch) return;
    this.core.metrics.limitHit('STALLED');
    const last = watch.lastDetails;
    const heard = watch.beats === 0 ? 'no heartbeat at all' : `no heartbeat after ${watch.beats}`;
    const shown = last === undefined ? '' : `; last details: ${JSON.stringify(last).slice(0, 200)}`;
    const message = `tool "${this.tool}" stalled: ${heard} within ${watch.timeoutMs} ms${shown}`;
    const failure: CallFailure =
      last === undefined
        ? { status: 'timeout', code: 'STALLED', message }
        : { status: 'timeout', code: 'STALLED', message, details: last };
    this.#settle(failure, 'failure');
  }

  /** For the watch: a progress message, shown while the call is open. */
  showProgress(progress: ToolProgress): void {
    if (!this.#settled) this.run.think(progress.message, { progress });
  }

  interrupt(reason: DispatchError): void {
    this.#settle({ status: callStatusOf(reason), code: reason.code, message: reason.message }, 'neutral');
  }

  #succeed(value: unknown): void {
    if (this.#settled) {
      this.#late('success');
      return;
    }
    const schema = (this.entry as ToolEntry).tool.output;
    if (!schema) {
      this.#settle({ output: value }, 'success');
      return;
    }
    try {
      const checked = schema.safeParse(value);
      if (checked.success) {
        this.#settle({ output: checked.data }, 'success');
        return;
      }
      const message = `the tool returned invalid output: ${formatIssues(checked.error.issues)}`;
      this.#settle({ status: 'error', code: 'INVALID_OUTPUT', message }, 'failure');
    } catch (error) {
      const message = toDispatchError(error, 'INVALID_OUTPUT').message;
      this.#settle({ status: 'error', code: 'INVALID_OUTPUT', message }, 'failure');
    }
  }

  #fail(error: unknown): void {
    if (this.#settled) {
      // A tool that throws its abort reason is obeying its signal: that is no result.
      if (error !== this.#stopReason && !(error instanceof Error && error.name === 'AbortError')) this.#late('error');
      return;
    }
    const failure = toDispatchError(error, 'TOOL_FAILED');
    this.#settle({ status: 'error', code: failure.code, message: failure.message }, 'failure');
  }

  // The tool's result came after the call completed: recorded through the metrics port, never delivered.
  #late(outcome: 'success' | 'error'): void {
    const result = this.#result;
    if (!result) return;
    const lateByMs = this.core.clock.monotonic() - this.#settledAt;
    this.core.metrics.lateResult?.(lateResultOf(this, outcome, result, lateByMs));
  }

  #settle(outcome: Outcome, verdict: Verdict): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#watch?.stop();
    this.#callerSignal?.removeEventListener('abort', this);
    this.run.removeCall(this);
    this.owner?.removeChild(this);
    const now = this.core.clock.monotonic();
    this.#settledAt = now;
    this.#breaker?.record(verdict, now);
    if ('status' in outcome) {
      // Tell the tool to stop: its result no longer matters. Built only if the tool holds a signal.
      if (this.#controller) {
        this.#stopReason = new DispatchError(outcome.code, outcome.message);
        this.#controller.abort(this.#stopReason);
      } else {
        this.#stopOutcome = outcome;
      }
    }
    const result = this.#complete(outcome, now);
    this.#result = result;
    this.#resolve?.(result);
  }

  #complete(outcome: Outcome, now: number = this.core.clock.monotonic()): ToolResult {
    const { core, run, callId, tool } = this;
    const durationMs = round(now - this.started);
    const label = this.entry ? tool : UNKNOWN_TOOL_LABEL;
    if ('status' in outcome) {
      const max = core.limits.redaction.maxStringLength;
      const message = outcome.message.length > max ? `${outcome.message.slice(0, max)}…` : outcome.message;
      const error: ErrorInfo =
        outcome.details === undefined
          ? { code: outcome.code, message }
          : {
              code: outcome.code,
              message,
              details: redactWith(outcome.details, core.limits.redaction, this.entry?.sensitive),
            };
      if (LIMIT_CODES.has(outcome.code)) core.metrics.limitHit(outcome.code);
      run.emit({ type: 'tool_completed', callId, tool, status: outcome.status, error, durationMs }, 0, now);
      core.metrics.toolExecuted(label, outcome.status, durationMs);
      return { callId, status: outcome.status, error, durationMs };
    }
    const output = (outcome.output ?? null) as JsonValue;
    const redacted = redactWith(output, core.limits.redaction, this.entry?.sensitive);
    run.emit({ type: 'tool_completed', callId, tool, status: 'success', output: redacted, durationMs }, 0, now);
    core.metrics.toolExecuted(label, 'success', durationMs);
    return { callId, status: 'success', output, durationMs };
  }
}

// Kept out of the class body: a late result is rare, and its record is built only then.
function lateResultOf(call: ToolCall, outcome: 'success' | 'error', result: ToolResult, lateByMs: number) {
  const code = result.status === 'success' ? 'SUCCESS' : result.error.code;
  return {
    runId: call.run.runId,
    userId: call.run.userId,
    callId: call.callId,
    tool: call.tool,
    outcome,
    completedAs: { status: result.status, code },
    lateByMs: round(lateByMs),
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
