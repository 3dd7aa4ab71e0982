/**
 * `@toolrun/telemetry`: OpenTelemetry traces of Toolrun runs, built from their five events. It
 * depends on `@opentelemetry/api` only; the server brings the SDK and the exporter.
 */
export type { RunTracer, RunTracerOptions } from './createRunTracer.ts';
export { createRunTracer } from './createRunTracer.ts';
export { parseTraceParent } from './parseTraceParent.ts';
export type { SpanIdGenerator } from './runTraceIds.ts';
export { DerivedSpanIds, spanIdOfCall, spanIdOfRun, traceIdOfRun } from './runTraceIds.ts';
