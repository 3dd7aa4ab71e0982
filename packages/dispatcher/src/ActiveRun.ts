import type { UserExecutionContext } from './context.ts';
import { DispatchError, type DispatchErrorCode } from './errors.ts';
import type {
  AgentCompletedEvent,
  ApprovalInfo,
  ErrorInfo,
  JsonValue,
  RunStatus,
  ToolCallStatus,
  ToolProgress,
} from './events.ts';
import type { DispatcherLimits } from './limits/limits.ts';
import type { DeadlineEntry, RunDeadlines } from './limits/RunDeadlines.ts';
import type { Clock, DispatcherMetrics, EventSink } from './ports.ts';
import { RunChannel } from './RunChannel.ts';
import type { OrderingViolation } from './RunStateMachine.ts';
import type { BookedScope } from './ScopeLeakWatch.ts';

/** The agent name of a run that a scope opens for tool calls made without an agent. */
export const DIRECT_RUN_AGENT = '(direct)';

/** How a run ends. */
export type RunOutcome =
  | { readonly status: 'completed'; readonly result: JsonValue }
  | { readonly status: Exclude<RunStatus, 'completed'>; readonly error: ErrorInfo };

/** A tool call in flight, as the run sees it: something it can end at once. */
export interface OpenCall {
  /** Ends the call now (emitting its `tool_completed`) because the run stops for `reason`. */
  interrupt(reason: DispatchError): void;
}

/** What an {@link ActiveRun} needs from its factory (the factory's core is one; tests pass their own). */
export interface RunHost {
  readonly sink: EventSink;
  readonly clock: Clock;
  readonly metrics: DispatcherMetrics;
  readonly limits: Pick<DispatcherLimits, 'runDeadlineMs' | 'redaction'>;
  readonly deadlines: RunDeadlines;
  /** An event of `run` was refused (and already counted as a metric); the run fails closed. */
  runViolated(run: ActiveRun, violation: OrderingViolation): void;
  /** Called once, right after `agent_completed` was emitted. */
  runClosed(run: ActiveRun): void;
  /** Called once, as `done` resolves (the sink took `agent_completed`). */
  runSettled(run: ActiveRun): void;
}

/** How a run that stops for `reason` ends. */
export function outcomeOf(reason: DispatchError): RunOutcome {
  const error = { code: reason.code, message: reason.message };
  const status = statusByCode[reason.code] ?? 'failed';
  return status === 'completed' ? { status: 'failed', error } : { status, error };
}
const statusByCode: Partial<Record<DispatchErrorCode, RunStatus>> = {
  CANCELLED: 'cancelled',
  SCOPE_DISPOSED: 'cancelled',
  SHUTTING_DOWN: 'interrupted',
  INTERRUPTED: 'interrupted',
};

/** How a tool call cut short by a run stopping for `reason` ends: a deadline is a timeout, the rest cancels. */
export function callStatusOf(reason: DispatchError): Exclude<ToolCallStatus, 'success'> {
  return reason.code === 'RUN_DEADLINE' ? 'timeout' : 'cancelled';
}

/** Turns an abort reason of any kind into a DispatchError. */
export function abortReason(signal: AbortSignal, fallback: DispatchErrorCode = 'CANCELLED'): DispatchError {
  const reason: unknown = signal.reason;
  if (reason instanceof DispatchError) return reason;
  const message = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'cancelled';
  return new DispatchError(fallback, message, { cause: reason });
}

/**
 * One run between `agent_started` and `agent_completed`: its event channel and ordering rules (its
 * base classes), its abort signal (cancel, deadline, disposal, shutdown, contract violation or sink
 * failure), its open tool calls and its closing. Agent runs are closed by the runner; direct runs
 * close themselves when aborted and otherwise when their scope is disposed. Internal to the package.
 */
export class ActiveRun extends RunChannel implements DeadlineEntry {
  readonly context: UserExecutionContext;
  readonly agent: string;
  readonly mode: 'agent' | 'direct';
  readonly done: Promise<AgentCompletedEvent>;
  startedAt = '';
  /** What drives an agent run: told when the run is aborted, so that the run ends at once. */
  driver: { aborted(): void } | undefined;
  /** The scope its factory releases once this run settles, if the run owns one (`factory.startRun`). */
  ownedScope: BookedScope | undefined;
  toolCalls = 0;
  // The run's links in its factory's deadline list (no timer of its own).
  deadlineAt = Number.POSITIVE_INFINITY;
  prevDeadline: DeadlineEntry | undefined;
  nextDeadline: DeadlineEntry | undefined;
  readonly #host: RunHost;
  // Tool calls in flight, oldest first: the oldest in a field, the rest (parallel calls) in an array.
  #firstCall: OpenCall | undefined;
  #moreCalls: OpenCall[] | undefined;
  // Created only when someone asks for the signal: a run nobody listens to pays nothing for it.
  #controller: AbortController | undefined;
  #abortReason: DispatchError | undefined;
  #startedMono = 0;
  #step = 0;
  #closing = false;
  #closed = false;
  // Calls waiting for a person's approval, and the run deadline's time left when the first began.
  #parked = 0;
  #deadlineLeft = 0;
  #resolveDone: ((event: AgentCompletedEvent) => void) | undefined;

  constructor(host: RunHost, context: UserExecutionContext, agent: string, mode: 'agent' | 'direct') {
    super();
    this.#host = host;
    this.context = context;
    this.agent = agent;
    this.mode = mode;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  // From the context rather than copied: three fewer fields per live run.
  get runId(): string {
    return this.context.runId;
  }

  get userId(): string {
    return this.context.userId;
  }

  get threadId(): string {
    return this.context.threadId;
  }

  get sink(): EventSink {
    return this.#host.sink;
  }

  get clock(): Clock {
    return this.#host.clock;
  }

  get metrics(): DispatcherMetrics {
    return this.#host.metrics;
  }

  /** For the channel: an event was refused and counted; the run fails closed. */
  onViolation(violation: OrderingViolation): void {
    this.#host.runViolated(this, violation);
    this.abort(new DispatchError('CONTRACT_VIOLATION', `refused an event: ${violation.message}`));
  }

  /** For the channel: the sink rejected a write; the run fails closed. */
  onSinkFailure(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.abort(new DispatchError('SINK_FAILED', `the event sink failed: ${message}`, { cause: error }));
  }

  /** For the deadline list: the run passed its deadline. */
  deadlinePassed(): void {
    const { runDeadlineMs } = this.#host.limits;
    this.#host.metrics.limitHit('RUN_DEADLINE');
    this.abort(new DispatchError('RUN_DEADLINE', `the run passed its deadline of ${runDeadlineMs} ms`));
  }

  /** Aborted when the run stops for any reason; its reason is a {@link DispatchError}. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortReason) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** Why the run was stopped, once it was; `undefined` while it runs normally. */
  get abortedBy(): DispatchError | undefined {
    return this.#abortReason;
  }

  /** Whether `agent_completed` has been emitted. */
  get closed(): boolean {
    return this.#closed;
  }

  /** How many tool calls are in flight. */
  get inFlight(): number {
    return this.#firstCall === undefined ? 0 : 1 + (this.#moreCalls?.length ?? 0);
  }

  /** Emits `agent_started` (with `queuedMs` when the run waited in a queue) and arms the run deadline. */
  start(input: JsonValue, queuedMs?: number): void {
    const { clock, deadlines, limits } = this.#host;
    this.#startedMono = clock.monotonic();
    const body =
      queuedMs === undefined
        ? { type: 'agent_started' as const, agent: this.agent, input }
        : { type: 'agent_started' as const, agent: this.agent, input, queuedMs: round(queuedMs) };
    this.startedAt = this.emit(body, 0, this.#startedMono)?.at ?? '';
    deadlines.add(this, limits.runDeadlineMs);
  }

  /**
   * Continues a run stored by an earlier process, instead of {@link start}: no `agent_started`, seq
   * and open calls where the store left them, a fresh run deadline (README, "Approvals").
   */
  resume(opts: {
    lastSeq: number;
    startedAtMs: number;
    toolCalls: number;
    open: readonly { callId: string; tool: string }[];
  }): void {
    const { clock, deadlines, limits } = this.#host;
    this.resumeAt(opts.lastSeq, opts.open);
    this.#startedMono = clock.monotonic() - Math.max(0, clock.now() - opts.startedAtMs);
    this.startedAt = new Date(opts.startedAtMs).toISOString();
    this.toolCalls = opts.toolCalls;
    deadlines.add(this, limits.runDeadlineMs);
  }

  /**
   * A call of this run starts waiting for a person: the run deadline stops while any call waits
   * (a pending approval has its own deadline), and resumes with the time it had left.
   */
  park(): void {
    this.#parked += 1;
    if (this.#parked > 1 || this.#closing) return;
    this.#deadlineLeft = Math.max(0, this.deadlineAt - performance.now());
    this.#host.deadlines.remove(this);
    this.deadlineAt = Number.POSITIVE_INFINITY;
  }

  /** A call stopped waiting for a person (see {@link park}). */
  unpark(): void {
    if (this.#parked === 0) return;
    this.#parked -= 1;
    if (this.#parked > 0 || this.#closing) return;
    this.#host.deadlines.add(this, this.#deadlineLeft);
  }

  /** Whether a call of this run waits for a person's approval. */
  get parked(): boolean {
    return this.#parked > 0;
  }

  /**
   * Emits `agent_thinking` with the next step number (refused and counted once the run has ended);
   * with an extension, a call's human approval or a tool call's progress (its message is the text).
   */
  think(text: string, extension?: ThoughtExtension): void {
    const max = this.#host.limits.redaction.maxStringLength;
    const cut = text.length > max ? `${text.slice(0, max)}…[truncated ${text.length - max} chars]` : text;
    const step = this.#step + 1;
    const body =
      extension === undefined
        ? { type: 'agent_thinking' as const, text: cut, step }
        : 'approval' in extension
          ? { type: 'agent_thinking' as const, text: cut, step, approval: extension.approval }
          : { type: 'agent_thinking' as const, text: cut, step, progress: { ...extension.progress, message: cut } };
    if (this.emit(body)) this.#step += 1;
  }

  /**
   * Stops the run for `reason`: aborts its signal and ends every open tool call at once. A direct
   * run then closes itself; an agent run is closed by its runner. Returns false if already stopping.
   */
  abort(reason: DispatchError): boolean {
    if (this.#closing || this.#abortReason) return false;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
    this.#interruptCalls(reason);
    if (this.mode === 'direct') this.close(outcomeOf(reason));
    else this.driver?.aborted();
    return true;
  }

  /**
   * Ends the run: closes every open tool call (as cancelled, or with the abort reason), emits the
   * one `agent_completed` and, once the sink has taken it, resolves `done`.
   */
  close(outcome: RunOutcome): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#firstCall !== undefined) {
      this.#interruptCalls(
        outcome.status === 'completed' || !this.#abortReason
          ? new DispatchError('CANCELLED', 'the run ended before this tool call completed')
          : this.#abortReason,
      );
    }
    const host = this.#host;
    const now = host.clock.monotonic();
    const durationMs = round(now - this.#startedMono);
    // Calls the ordering rules saw open but no tool call owns (only a broken emitter makes them)
    // are closed by force, so that the run can still end.
    if (this.openCount > 0) {
      for (const { callId, tool } of this.openCalls()) {
        const error = { code: 'CONTRACT_VIOLATION', message: 'closed by force: no tool call owned it' };
        this.emit({ type: 'tool_completed', callId, tool, status: 'cancelled', error, durationMs: 0 });
      }
    }
    const toolCalls = this.toolCalls;
    const event = this.emit(
      outcome.status === 'completed'
        ? { type: 'agent_completed', durationMs, toolCalls, status: outcome.status, result: outcome.result }
        : { type: 'agent_completed', durationMs, toolCalls, status: outcome.status, error: outcome.error },
      0,
      now,
    );
    this.#closed = true;
    host.deadlines.remove(this);
    if (!this.#abortReason) {
      this.#abortReason = RUN_FINISHED;
      this.#controller?.abort(RUN_FINISHED);
    }
    const completed = event?.type === 'agent_completed' ? event : undefined;
    host.metrics.runFinished(this.agent, completed?.status ?? 'failed', durationMs);
    host.runClosed(this);
    void this.idle().then(() => {
      if (!completed) return;
      try {
        host.runSettled(this);
      } finally {
        this.#resolveDone?.(completed);
      }
    });
  }

  /** Registers a call in flight. */
  addCall(call: OpenCall): void {
    if (this.#firstCall === undefined) this.#firstCall = call;
    else if (this.#moreCalls) this.#moreCalls.push(call);
    // A one-item literal: a push onto an empty array would reserve room for 17.
    else this.#moreCalls = [call];
  }

  /**
   * Whether the run's deadline fires before a timer of `timeoutMs` started now would: then that
   * timer is not needed, the deadline ends the call (as a timeout) first. A 1 ms margin keeps
   * the two timers from racing.
   */
  deadlineComesFirst(timeoutMs: number): boolean {
    return this.deadlineAt + 1 < performance.now() + timeoutMs;
  }

  /** Forgets a call that has completed. */
  removeCall(call: OpenCall): void {
    const more = this.#moreCalls;
    if (this.#firstCall === call) {
      this.#firstCall = more?.shift();
      if (more?.length === 0) this.#moreCalls = undefined;
      return;
    }
    if (!more) return;
    const index = more.indexOf(call);
    if (index === -1) return;
    more.splice(index, 1);
    if (more.length === 0) this.#moreCalls = undefined;
  }

  #interruptCalls(reason: DispatchError): void {
    if (this.#firstCall === undefined) return;
    const calls = [this.#firstCall, ...(this.#moreCalls ?? [])];
    for (const call of calls) call.interrupt(reason);
  }
}

// One shared reason: a run that ends normally should not pay for a stack trace.
const RUN_FINISHED = new DispatchError('RUN_FINISHED', 'the run has ended');

/** Milliseconds rounded to the microsecond: enough precision, short JSON. */
export function round(ms: number): number {
  return Math.max(0, Math.round(ms * 1000) / 1000);
}

/** What an `agent_thinking` may carry besides its text (ARCHITECTURE.md, the extension table). */
export type ThoughtExtension = { readonly approval: ApprovalInfo } | { readonly progress: ToolProgress };
