import { emitTimes } from './emitTimes.ts';
import type { JsonValue, RunEvent, RunEventBody } from './events.ts';
import { isoTime } from './isoTime.ts';
import type { Clock, DispatcherMetrics, EventSink } from './ports.ts';
import { acceptMinted, type OrderingViolation, RunStateMachine } from './RunStateMachine.ts';
import { systemClock, systemWallClockAt } from './systemClock.ts';

const RESOLVED: Promise<void> = Promise.resolve();
// Channels with events to hand to their sink at the next flush, in the order they asked, and
// whether that flush is scheduled. Two arrays in turn: a burst allocates no list.
let due: RunChannel[] = [];
let spare: RunChannel[] = [];
let flushScheduled = false;

/**
 * One run's event pipe: it checks each event against the run's ordering rules (it IS the run's
 * {@link RunStateMachine}), stamps the envelope (seq without gaps, id, time), freezes it and hands
 * events to the sink in seq order, one write at a time. Events emitted while a write is pending
 * wait and go together in the next write, so a slow asynchronous sink neither reorders nor loses
 * them, and can group-commit. A base class of the run rather than an object of its own: a live run
 * is one object, not three. Internal to the package.
 */
export abstract class RunChannel extends RunStateMachine {
  abstract readonly runId: string;
  abstract readonly userId: string;
  abstract readonly threadId: string;
  abstract readonly sink: EventSink;
  abstract readonly clock: Clock;
  abstract readonly metrics: DispatcherMetrics;
  /** Called after an event was refused and counted; the run fails closed. */
  abstract onViolation(violation: OrderingViolation): void;
  /** Called once, on the first rejected write; the run fails closed. */
  abstract onSinkFailure(error: unknown): void;

  /** Events dropped because the sink failed twice; they never reached it. */
  lost = 0;
  #seq = 0;
  #queue: RunEvent[] | undefined;
  #writing = false;
  #scheduled = false;
  #sinkFailures = 0;
  #idleWaiters: (() => void)[] | undefined;

  /** The seq of the last accepted event (0 before the first). */
  get seq(): number {
    return this.#seq;
  }

  /**
   * Continues a stored run: the next event gets seq `lastSeq + 1`, and `open` calls may complete.
   * Only before the channel's first event (a run resumed after a restart, README "Approvals").
   */
  resumeAt(lastSeq: number, open: readonly { callId: string; tool: string }[]): void {
    if (this.#seq !== 0) throw new Error('only a channel that has emitted nothing can resume a stored run');
    this.restore(open);
    this.#seq = lastSeq;
  }

  /**
   * Checks, stamps and queues an event. Returns it, or `undefined` when the ordering rules refused
   * it. `minted`: the number of a `tool_executing`'s call id from the package's own id source.
   * `mono`: the monotonic clock reading of this instant, when the caller just took one (with the
   * system clock, `at` is derived from it rather than read again).
   */
  emit(body: RunEventBody, minted = 0, mono = Number.NaN): RunEvent | undefined {
    const violation = minted > 0 ? acceptMinted(this, body, minted) : this.accept(body);
    if (violation) {
      this.metrics.contractViolation(violation.rule);
      this.onViolation(violation);
      return undefined;
    }
    const seq = ++this.#seq;
    // Payloads come frozen from redaction; freezing the envelope finishes the job without a walk.
    // With the system clock every `at` comes from the monotonic clock (one source: never a step
    // back between two events), from the caller's reading when it has one.
    const clock = this.clock;
    const system = clock === systemClock;
    const reading = system ? (Number.isNaN(mono) ? performance.now() : mono) : Number.NaN;
    const wall = system ? systemWallClockAt(reading) : clock.now();
    const stamped = stamp(body, `${this.runId}:${seq}`, seq, this, isoTime(wall));
    // The server's delivery histogram measures from here (see emitTimes.ts); off, this is one check.
    if (emitTimes.recording) emitTimes.note(stamped, system ? reading : performance.now());
    const event = Object.freeze(stamped);
    this.metrics.eventEmitted(event.type);
    // A one-item literal when the queue is empty: a push would reserve room for 17 events.
    if (this.#queue === undefined) this.#queue = [event];
    else this.#queue.push(event);
    if (!this.#writing && !this.#scheduled) {
      this.#scheduled = true;
      // One flush per burst, shared by every run: events emitted in the same tick reach the sink
      // in one write per run, and a burst costs one promise reaction, not a microtask per run.
      due.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        void RESOLVED.then(RunChannel.#flushDue);
      }
    }
    return event;
  }

  /** Resolves when every accepted event has been handed to the sink and its write has settled. */
  idle(): Promise<void> {
    if (!this.#writing && !this.#scheduled && this.#queue === undefined) return RESOLVED;
    return new Promise((resolve) => {
      if (this.#idleWaiters) this.#idleWaiters.push(resolve);
      else this.#idleWaiters = [resolve];
    });
  }

  static #flushDue(): void {
    // Runs that emit during this flush go to the other list and the next flush.
    const channels = due;
    due = spare;
    flushScheduled = false;
    for (let i = 0; i < channels.length; i++) {
      const channel = channels[i] as RunChannel;
      try {
        channel.#scheduled = false;
        channel.#write();
      } catch (error) {
        // As if each run had its own microtask: one run's throwing port does not stop the others.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    channels.length = 0;
    spare = channels;
  }

  // Methods, not arrow fields: an arrow class field gets its `name` at run time, which costs
  // every channel a property store (hundreds of bytes per live run).
  #write(): void {
    if (this.#writing) return;
    const batch = this.#queue;
    if (batch === undefined) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = undefined;
      if (waiters) for (const resolve of waiters) resolve();
      return;
    }
    this.#queue = undefined;
    this.#writing = true;
    let pending: void | Promise<void>;
    try {
      pending = this.sink.write(batch);
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
      this.#queue = batch.concat(this.#queue ?? []);
      this.onSinkFailure(error);
      this.#write();
      return;
    }
    this.lost += batch.length + (this.#queue?.length ?? 0);
    this.#queue = undefined;
    this.#write();
  }
}

type Envelope = Pick<RunChannel, 'runId' | 'userId' | 'threadId'>;

/**
 * The event for `body`: the envelope first, then the body's fields in their usual order. Built as
 * one literal per type (not a spread) so that every event of a type has one shape, which keeps
 * the sinks' property reads monomorphic. Optional fields appear only when the body has them.
 */
function stamp(body: RunEventBody, id: string, seq: number, e: Envelope, at: string): RunEvent {
  const { runId, userId, threadId } = e;
  switch (body.type) {
    case 'agent_started': {
      const { agent, input, queuedMs } = body;
      if (queuedMs !== undefined)
        return { id, seq, runId, userId, threadId, at, type: body.type, agent, input, queuedMs };
      return { id, seq, runId, userId, threadId, at, type: body.type, agent, input };
    }
    case 'agent_thinking': {
      const { text, step, approval, progress } = body;
      // Extensions ride on agent_thinking as optional fields (ARCHITECTURE.md), frozen like the rest.
      if (approval !== undefined)
        return { id, seq, runId, userId, threadId, at, type: body.type, text, step, approval };
      if (progress !== undefined) {
        return { id, seq, runId, userId, threadId, at, type: body.type, text, step, progress: Object.freeze(progress) };
      }
      return { id, seq, runId, userId, threadId, at, type: body.type, text, step };
    }
    case 'tool_executing': {
      const { callId, tool, input, parentCallId } = body;
      if (parentCallId !== undefined) {
        return { id, seq, runId, userId, threadId, at, type: body.type, callId, tool, input, parentCallId };
      }
      return { id, seq, runId, userId, threadId, at, type: body.type, callId, tool, input };
    }
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
