import type { Context } from '@opentelemetry/api';
import { defaultTextMapGetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const propagator = new W3CTraceContextPropagator();

/**
 * The remote parent that a W3C `traceparent` (and `tracestate`) header names, as a context to start
 * spans in; `undefined` for a missing or malformed header (a bad header never fails a run).
 */
export function parseTraceParent(carrier: {
  traceparent: string;
  tracestate?: string | undefined;
}): Context | undefined {
  const headers: Record<string, string> = { traceparent: carrier.traceparent };
  if (carrier.tracestate !== undefined) headers.tracestate = carrier.tracestate;
  const extracted = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  return trace.getSpanContext(extracted) === undefined ? undefined : extracted;
}
