import type { JsonValue, RunEvent, RunEventBody } from './events.ts';
import { isoTime } from './isoTime.ts';
import type { Clock, DispatcherMetrics, EventSink } from './ports.ts';
import { type OrderingViolation, RunStateMachine } from './RunStateMachine.ts';

/** What a {@link RunChannel} needs. */
export interface RunChannelOptions {
  readonly runId: string;
  readonly userId: string;
  readonly threadId: string;
  readonly sink: EventSink;
  readonly clock: Clock;
  readonly metrics: DispatcherMetrics;
  /** Called after an event was refused and counted; the run fails closed. */
  readonly onViolation: (violation: OrderingViolation) => void;
  /** Called once, on the first rejected write; the run fails closed. */
  readonly onSinkFailure: (error: unknown) => void;
}

/**
 * One run's event pipe: it checks each event against the {@link RunStateMachine}, stamps the
 * envelope (seq without gaps, id, time), freezes it and hands events to the sink in seq order,
 * one write at a time. Events emitted while a write is pending wait and go together in the next
 * write, so a slow asynchronous sink neither reorders nor loses them, and can group-commit.
 * Internal to the package.
 */
export class RunChannel {
  readonly machine = new RunStateMachine();
  /** Events dropped because the sink failed twice; they never reached it. */
  lost = 0;
  readonly #opts: RunChannelOptions;
  #seq = 0;
  #queue: RunEvent[] = [];
  #writing = false;
  #scheduled = false;
  #sinkFailures = 0;
  #idleWaiters: (() => void)[] | undefined;

  constructor(opts: RunChannelOptions) {
    this.#opts = opts;
  }

  /** The seq of the last accepted event (0 before the first). */
  get seq(): number {
    return this.#seq;
  }

  /** Checks, stamps and queues an event. Returns it, or `undefined` when the state machine refused it. */
  emit(body: RunEventBody): RunEvent | undefined {
    const violation = this.machine.accept(body);
    if (violation) {
      this.#opts.metrics.contractViolation(violation.rule);
      this.#opts.onViolation(violation);
      return undefined;
    }
    const o = this.#opts;
    const seq = ++this.#seq;
    // Payloads come frozen from redaction; freezing the envelope finishes the job without a walk.
    const event = Object.freeze(stamp(body, `${o.runId}:${seq}`, seq, o, isoTime(o.clock.now())));
    o.metrics.eventEmitted(event.type);
    // A one-item literal when the queue is empty: a push would reserve room for 17 events.
    if (this.#queue.length === 0) this.#queue = [event];
    else this.#queue.push(event);
    if (!this.#writing && !this.#scheduled) {
      this.#scheduled = true;
      // One microtask per burst: events emitted in the same tick reach the sink in one write.
      queueMicrotask(() => this.#flush());
    }
    return event;
  }

  /** Resolves when every accepted event has been handed to the sink and its write has settled. */
  idle(): Promise<void> {
    if (!this.#writing && !this.#scheduled && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.#idleWaiters) this.#idleWaiters.push(resolve);
      else this.#idleWaiters = [resolve];
    });
  }

  // Methods, not arrow fields: an arrow class field gets its `name` at run time, which costs
  // every channel a property store (hundreds of bytes per live run).
  #flush(): void {
    this.#scheduled = false;
    this.#write();
  }

  #write(): void {
    if (this.#writing) return;
    if (this.#queue.length === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = undefined;
      if (waiters) for (const resolve of waiters) resolve();
      return;
    }
    const batch = this.#queue;
    this.#queue = [];
    this.#writing = true;
    let pending: void | Promise<void>;
    try {
      pending = this.#opts.sink.write(batch);
    } catch (error) {
      this.#failed(batch, error);
      return;
    }
    if (pending !== undefined && typeof (pending as Promise<void>).then === 'function') {
      pending.then(
        () => this.#written(),
        (error: unknown) => this.#failed(batch, error),
      );
    } else {
      this.#written();
    }
  }

  #written(): void {
    this.#writing = false;
    this.#write();
  }

  #failed(batch: RunEvent[], error: unknown): void {
    this.#writing = false;
    this.#sinkFailures += 1;
    if (this.#sinkFailures === 1) {
      // Retry once, in order, together with whatever the failing-closed run adds.
      this.#queue = batch.concat(this.#queue);
      this.#opts.onSinkFailure(error);
      this.#write();
      return;
    }
    this.lost += batch.length + this.#queue.length;
    this.#queue = [];
    this.#write();
  }
}

type Envelope = Pick<RunChannelOptions, 'runId' | 'userId' | 'threadId'>;

/**
 * The event for `body`: the envelope first, then the body's fields in their usual order. Built as
 * one literal per type (not a spread) so that every event of a type has one shape, which keeps
 * the sinks' property reads monomorphic. Optional fields appear only when the body has them.
 */
function stamp(body: RunEventBody, id: string, seq: number, e: Envelope, at: string): RunEvent {
  const { runId, userId, threadId } = e;
  switch (body.type) {
    case 'agent_started':
      return { id, seq, runId, userId, threadId, at, type: body.type, agent: body.agent, input: body.input };
    case 'agent_thinking':
      return { id, seq, runId, userId, threadId, at, type: body.type, text: body.text, step: body.step };
    case 'tool_executing':
      return {
        id,
        seq,
        runId,
        userId,
        threadId,
        at,
        type: body.type,
        callId: body.callId,
        tool: body.tool,
        input: body.input,
      };
    case 'tool_completed': {
      const { callId, tool, status, durationMs } = body;
      if (body.error !== undefined) {
        const error = Object.freeze(body.error);
        if (body.output !== undefined) {
          return {
            id,
            seq,
            runId,
            userId,
            threadId,
            at,
            type: body.type,
            callId,
            tool,
            status,
            output: body.output,
            error,
            durationMs,
          };
        }
        return { id, seq, runId, userId, threadId, at, type: body.type, callId, tool, status, error, durationMs };
      }
      if (body.output !== undefined || 'output' in body) {
        return {
          id,
          seq,
          runId,
          userId,
          threadId,
          at,
          type: body.type,
          callId,
          tool,
          status,
          output: body.output as JsonValue,
          durationMs,
        };
      }
      return { id, seq, runId, userId, threadId, at, type: body.type, callId, tool, status, durationMs };
    }
    case 'agent_completed': {
      const { durationMs, toolCalls, status } = body;
      if (body.error !== undefined) {
        const error = Object.freeze(body.error);
        if ('result' in body) {
          return {
            id,
            seq,
            runId,
            userId,
            threadId,
            at,
            type: body.type,
            durationMs,
            toolCalls,
            status,
            result: body.result as JsonValue,
            error,
          };
        }
        return { id, seq, runId, userId, threadId, at, type: body.type, durationMs, toolCalls, status, error };
      }
      if ('result' in body) {
        return {
          id,
          seq,
          runId,
          userId,
          threadId,
          at,
          type: body.type,
          durationMs,
          toolCalls,
          status,
          result: body.result as JsonValue,
        };
      }
      return { id, seq, runId, userId, threadId, at, type: body.type, durationMs, toolCalls, status };
    }
    default: {
      const unreachable: never = body;
      throw new Error(`unknown event type ${String((unreachable as { type?: unknown }).type)}`);
    }
  }
}
