import type { UserExecutionContext } from './context.ts';
import { DispatchError, type DispatchErrorCode } from './errors.ts';
import type { AgentCompletedEvent, ErrorInfo, JsonValue, RunStatus, ToolCallStatus } from './events.ts';
import { isoTime } from './isoTime.ts';
import type { RedactionOptions } from './limits/limits.ts';
import type { Clock, DispatcherMetrics, EventSink } from './ports.ts';
import { RunChannel, type RunChannelOptions } from './RunChannel.ts';
import type { OrderingViolation } from './RunStateMachine.ts';

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

/** What an {@link ActiveRun} needs from its factory. */
export interface ActiveRunOptions {
  readonly context: UserExecutionContext;
  readonly agent: string;
  readonly mode: 'agent' | 'direct';
  readonly sink: EventSink;
  readonly clock: Clock;
  readonly metrics: DispatcherMetrics;
  readonly deadlineMs: number;
  readonly redaction: RedactionOptions;
  readonly onViolation: (violation: OrderingViolation) => void;
  /** Called once, right after `agent_completed` was emitted. */
  readonly onClosed: (run: ActiveRun) => void;
  /** Called once, as `done` resolves (the sink took `agent_completed`). */
  readonly onSettled?: (run: ActiveRun) => void;
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
 * One run between `agent_started` and `agent_completed`: its event channel, its abort signal
 * (cancel, deadline, disposal, shutdown, contract violation or sink failure), its open tool calls
 * and its closing. Agent runs are closed by the runner; direct runs close themselves when aborted
 * and otherwise when their scope is disposed. Internal to the package.
 */
export class ActiveRun implements RunChannelOptions {
  readonly runId: string;
  readonly userId: string;
  readonly threadId: string;
  readonly agent: string;
  readonly mode: 'agent' | 'direct';
  readonly channel: RunChannel;
  /** Tool calls in flight, oldest first (an array: a Map emptied on every call keeps rehashing). */
  openCalls: OpenCall[] = [];
  readonly done: Promise<AgentCompletedEvent>;
  startedAt = '';
  /** What drives an agent run: told when the run is aborted, so that the run ends at once. */
  driver: { aborted(): void } | undefined;
  toolCalls = 0;
  readonly #opts: ActiveRunOptions;
  // Created only when someone asks for the signal: a run nobody listens to pays nothing for it.
  #controller: AbortController | undefined;
  #abortReason: DispatchError | undefined;
  #abortListeners: ((reason: DispatchError) => void)[] | undefined;
  // performance.now() at which the deadline timer fires: real time, as the timer itself.
  #deadlineAt = Number.POSITIVE_INFINITY;
  #startedMono = 0;
  #step = 0;
  #closing = false;
  #closed = false;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #resolveDone: ((event: AgentCompletedEvent) => void) | undefined;

  constructor(opts: ActiveRunOptions) {
    this.#opts = opts;
    this.runId = opts.context.runId;
    this.userId = opts.context.userId;
    this.threadId = opts.context.threadId;
    this.agent = opts.agent;
    this.mode = opts.mode;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    // The run is its channel's options: no options object and no closures per run.
    this.channel = new RunChannel(this);
  }

  get sink(): EventSink {
    return this.#opts.sink;
  }

  get clock(): Clock {
    return this.#opts.clock;
  }

  get metrics(): DispatcherMetrics {
    return this.#opts.metrics;
  }

  /** For the channel: an event was refused and counted; the run fails closed. */
  onViolation(violation: OrderingViolation): void {
    this.#opts.onViolation(violation);
    this.abort(new DispatchError('CONTRACT_VIOLATION', `refused an event: ${violation.message}`));
  }

  /** For the channel: the sink rejected a write; the run fails closed. */
  onSinkFailure(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.abort(new DispatchError('SINK_FAILED', `the event sink failed: ${message}`, { cause: error }));
  }

  /** Aborted when the run stops for any reason; its reason is a {@link DispatchError}. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortReason) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** Calls `listener` once when the run is aborted; returns a function that removes it. */
  onAbort(listener: (reason: DispatchError) => void): () => void {
    // A one-item literal: a push onto an empty array would reserve room for 17.
    if (this.#abortListeners) this.#abortListeners.push(listener);
    else this.#abortListeners = [listener];
    return () => {
      this.#abortListeners = this.#abortListeners?.filter((l) => l !== listener);
    };
  }

  /** Why the run was stopped, once it was; `undefined` while it runs normally. */
  get abortedBy(): DispatchError | undefined {
    return this.#abortReason;
  }

  /** Whether `agent_completed` has been emitted. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Emits `agent_started` and arms the run deadline. */
  start(input: JsonValue): void {
    const { clock, deadlineMs } = this.#opts;
    this.#startedMono = clock.monotonic();
    this.startedAt = isoTime(clock.now());
    this.channel.emit({ type: 'agent_started', agent: this.agent, input });
    this.#deadlineAt = performance.now() + deadlineMs;
    this.#deadline = setTimeout(() => {
      this.#opts.metrics.limitHit('RUN_DEADLINE');
      this.abort(new DispatchError('RUN_DEADLINE', `the run passed its deadline of ${deadlineMs} ms`));
    }, deadlineMs);
  }

  /** Emits `agent_thinking` with the next step number (refused and counted once the run has ended). */
  think(text: string): void {
    const max = this.#opts.redaction.maxStringLength;
    const cut = text.length > max ? `${text.slice(0, max)}…[truncated ${text.length - max} chars]` : text;
    if (this.channel.emit({ type: 'agent_thinking', text: cut, step: this.#step + 1 })) this.#step += 1;
  }

  /**
   * Stops the run for `reason`: aborts its signal and ends every open tool call at once. A direct
   * run then closes itself; an agent run is closed by its runner. Returns false if already stopping.
   */
  abort(reason: DispatchError): boolean {
    if (this.#closing || this.#abortReason) return false;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#abortListeners;
    this.#abortListeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
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
    if (this.openCalls.length > 0) {
      this.#interruptCalls(
        outcome.status === 'completed' || !this.#abortReason
          ? new DispatchError('CANCELLED', 'the run ended before this tool call completed')
          : this.#abortReason,
      );
    }
    const durationMs = round(this.#opts.clock.monotonic() - this.#startedMono);
    // Calls the state machine saw open but no tool call owns (only a broken emitter makes them)
    // are closed by force, so that the run can still end.
    if (this.channel.machine.openCount > 0) {
      for (const { callId, tool } of this.channel.machine.openCalls()) {
        const error = { code: 'CONTRACT_VIOLATION', message: 'closed by force: no tool call owned it' };
        this.channel.emit({ type: 'tool_completed', callId, tool, status: 'cancelled', error, durationMs: 0 });
      }
    }
    const toolCalls = this.toolCalls;
    const event = this.channel.emit(
      outcome.status === 'completed'
        ? { type: 'agent_completed', durationMs, toolCalls, status: outcome.status, result: outcome.result }
        : { type: 'agent_completed', durationMs, toolCalls, status: outcome.status, error: outcome.error },
    );
    this.#closed = true;
    clearTimeout(this.#deadline);
    if (!this.#abortReason) {
      this.#abortReason = RUN_FINISHED;
      this.#controller?.abort(RUN_FINISHED);
    }
    const completed = event?.type === 'agent_completed' ? event : undefined;
    this.#opts.metrics.runFinished(this.agent, completed?.status ?? 'failed', durationMs);
    this.#opts.onClosed(this);
    void this.channel.idle().then(() => {
      if (completed) {
        this.#opts.onSettled?.(this);
        this.#resolveDone?.(completed);
      }
    });
  }

  /** Registers a call in flight. */
  addCall(call: OpenCall): void {
    // A one-item literal: a push onto an empty array would reserve room for 17.
    if (this.openCalls.length === 0) this.openCalls = [call];
    else this.openCalls.push(call);
  }

  /**
   * Whether the run's deadline fires before a timer of `timeoutMs` started now would: then that
   * timer is not needed, the deadline ends the call (as a timeout) first. A 1 ms margin keeps
   * the two timers from racing.
   */
  deadlineComesFirst(timeoutMs: number): boolean {
    return this.#deadlineAt + 1 < performance.now() + timeoutMs;
  }

  /** Forgets a call that has completed. */
  removeCall(call: OpenCall): void {
    const open = this.openCalls;
    const index = open.indexOf(call);
    if (index === -1) return;
    for (let i = index; i < open.length - 1; i++) open[i] = open[i + 1] as OpenCall;
    open.pop();
  }

  #interruptCalls(reason: DispatchError): void {
    if (this.openCalls.length === 0) return;
    for (const call of [...this.openCalls]) call.interrupt(reason);
  }
}

// One shared reason: a run that ends normally should not pay for a stack trace.
const RUN_FINISHED = new DispatchError('RUN_FINISHED', 'the run has ended');

/** Milliseconds rounded to the microsecond: enough precision, short JSON. */
export function round(ms: number): number {
  return Math.max(0, Math.round(ms * 1000) / 1000);
}
