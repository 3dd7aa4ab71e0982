import type { QueuedRunRecord } from '@toolrun/db';
import type { UserExecutionContext } from '@toolrun/dispatcher';
import type { TraceCarrier } from '../tracing.ts';

/**
 * The durable row of a run that has not started yet: what a restarted process (single mode) or a
 * worker (cluster mode) needs to start it later under the same run id, and when it stops waiting.
 */
export function queuedRunRecord(opts: {
  context: UserExecutionContext;
  agent: string;
  input: unknown;
  enqueuedAt: number;
  maxQueueWaitMs: number;
  /** The starting request's W3C trace context: the parent of the run's trace wherever it executes. */
  traceContext?: TraceCarrier | null | undefined;
}): QueuedRunRecord {
  const { context, enqueuedAt } = opts;
  return {
    runId: context.runId,
    userId: context.userId,
    threadId: context.threadId,
    roles: JSON.stringify(context.roles),
    agent: opts.agent,
    input: JSON.stringify(opts.input),
    enqueuedAt,
    deadlineAt: enqueuedAt + opts.maxQueueWaitMs,
    traceContext: opts.traceContext ? JSON.stringify(opts.traceContext) : null,
  };
}

/** The trace context a queued run's row carries, back as the tracer takes it; undefined when none (or unreadable). */
export function traceContextOf(record: QueuedRunRecord): TraceCarrier | undefined {
  if (record.traceContext === null) return undefined;
  try {
    const parsed = JSON.parse(record.traceContext) as Partial<TraceCarrier>;
    if (typeof parsed.traceparent !== 'string') return undefined;
    return typeof parsed.tracestate === 'string'
      ? { traceparent: parsed.traceparent, tracestate: parsed.tracestate }
      : { traceparent: parsed.traceparent };
  } catch {
    return undefined;
  }
}
