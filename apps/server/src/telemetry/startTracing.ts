import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { RunTracer } from '@toolrun/telemetry';
import { createRunTracer, DerivedSpanIds } from '@toolrun/telemetry';

/** How traces leave the server; see `env.ts` (`OTEL_*`, `TOOLRUN_TRACE_CONTENT`). */
export interface TracingOptions {
  /** The traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  readonly endpoint: string;
  /** `OTEL_EXPORTER_OTLP_PROTOCOL` (or `…_TRACES_PROTOCOL`): OTLP over HTTP as JSON or as protobuf. */
  readonly protocol: 'http/json' | 'http/protobuf';
  /** `OTEL_SERVICE_NAME`, default `toolrun`. */
  readonly serviceName: string;
  /** Record the redacted inputs and outputs of runs and tool calls on spans. */
  readonly recordContent: boolean;
}

/** A running trace pipeline. */
export interface Tracing {
  readonly runTracer: RunTracer;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts an OpenTelemetry trace pipeline: a tracer provider whose batch processor hands spans to an
 * OTLP/HTTP exporter. `env.ts` decides whether tracing is on and where to; the SDK reads the other
 * standard variables itself (`OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT`, `…_COMPRESSION`, `OTEL_BSP_*`).
 * When tracing is off nothing of this runs.
 */
export function startTracing(opts: TracingOptions): Tracing {
  const config = { url: opts.endpoint };
  const exporter =
    opts.protocol === 'http/json' ? new OTLPJsonTraceExporter(config) : new OTLPProtoTraceExporter(config);
  // Span ids derived from run and call ids: a tool call knows its span's id while it runs (the span is
  // built at the run's end), and passes it on as `traceparent` (MCP tool sources do).
  const ids = new DerivedSpanIds();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
    idGenerator: ids,
  });
  const runTracer = createRunTracer({ tracer: provider.getTracer('toolrun'), recordContent: opts.recordContent, ids });
  return { runTracer, shutdown: () => provider.shutdown() };
}
