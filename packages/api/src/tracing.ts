import type { CallTracing, RunEvent } from '@toolrun/dispatcher';

/**
 * What the services need of a tracer: committed events in, a request's trace context per run, and
 * (optionally) each running tool call's trace context, which the dispatcher hands to tools as
 * `ctx.traceContext`.
 */
export interface RunTracerPort extends Partial<CallTracing> {
  observe(events: readonly RunEvent[]): void;
  setParent(runId: string, carrier: TraceCarrier): void;
}

/** The W3C trace context headers of a request. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string | undefined;
}
