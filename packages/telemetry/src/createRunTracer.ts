import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import { context as contextApi, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RunEvent, ToolCompletedEvent, ToolExecutingEvent } from '@toolrun/dispatcher';
import { parseTraceParent } from './parseTraceParent.ts';
import { type DerivedSpanIds, spanIdOfCall, spanIdOfRun, traceIdOfRun } from './runTraceIds.ts';
import { SUB_AGENT_PREFIX, spanAttributes } from './spanAttributes.ts';

/** Options of {@link createRunTracer}. */
export interface RunTracerOptions {
  /** Where spans go: the tracer of an OpenTelemetry SDK (or any `@opentelemetry/api` tracer). */
  readonly tracer: Tracer;
  /**
   * Record tool inputs and outputs and run inputs and results on spans (their redacted form, as in
   * the events). Default false: spans carry names, ids, statuses and timings only.
   */
  readonly recordContent?: boolean;
  /** Runs followed at once; past it the oldest is dropped unexported. Default 10,000. */
  readonly maxOpenRuns?: number;
  /** Tool calls remembered per run; past it later calls get no span. Default 1,000. */
  readonly maxCallsPerRun?: number;
  /**
   * The tracer provider's `idGenerator`: with it, spans get ids derived from run and call ids, and
   * {@link RunTracer.traceContextOf} gives a running call its span's `traceparent`. Without it, spans
   * get the provider's ids and `traceContextOf` gives nothing.
   */
  readonly ids?: DerivedSpanIds;
}

/** Turns runs' committed events into OpenTelemetry traces. */
export interface RunTracer {
  /** Feed committed events, each run's in seq order (what the persistent sink's `onCommitted` gets). */
  observe(events: readonly RunEvent[]): void;
  /** The W3C `traceparent` (and `tracestate`) of the request that started `runId`: its trace's parent. */
  setParent(runId: string, carrier: { traceparent: string; tracestate?: string | undefined }): void;
  /**
   * The W3C trace context of a call's span while the call runs (the span itself is exported when the
   * run ends, with this very id): what a tool passes downstream so that the spans there join the
   * run's trace as children of its `execute_tool` span. `undefined` without `ids`.
   */
  traceContextOf(call: {
    readonly runId: string;
    readonly callId: string;
  }): { traceparent: string; tracestate?: string | undefined } | undefined;
  /** Runs started and not yet finished: for tests and `/metrics`. */
  openRuns(): number;
  /** Runs dropped because more than `maxOpenRuns` were open. */
  droppedRuns(): number;
}

interface OpenCall {
  readonly executing: ToolExecutingEvent;
  completed?: ToolCompletedEvent;
}

interface OpenRun {
  started?: RunEvent & { type: 'agent_started' };
  parent?: Context;
  readonly calls: Map<string, OpenCall>;
  firstSeq: number;
}

/**
 * Builds one trace per run from the run's five events, when the run ends: an `invoke_agent <agent>`
 * span for the run, an `execute_tool <tool>` child per tool call and an `invoke_agent <name>` child per
 * sub-agent call, with that sub-agent's calls nested under it (`tool_executing.parentCallId`). Times
 * are the events' own `at` fields, so a trace shows what happened, not when it was exported. The
 * attributes follow the OpenTelemetry GenAI conventions plus `toolrun.*`.
 *
 * It reads nothing but events: the dispatcher knows nothing of OpenTelemetry, and a run's trace is
 * the same whichever process committed it. Runs whose start this tracer did not see (a restart in
 * between) are skipped.
 *
 * @example
 * const tracer = createRunTracer({ tracer: provider.getTracer('toolrun') });
 * openDatabase({ … }).createPersistentSink({ onCommitted: (events) => tracer.observe(events) });
 */
export function createRunTracer(opts: RunTracerOptions): RunTracer {
  const maxOpenRuns = opts.maxOpenRuns ?? 10_000;
  const maxCalls = opts.maxCallsPerRun ?? 1_000;
  const content = opts.recordContent ?? false;
  const ids = opts.ids;
  // One span, with the ids derived for it when the provider takes them from `ids`.
  const startSpan = (
    runId: string,
    spanId: string,
    name: string,
    options: Parameters<Tracer['startSpan']>[1],
    parent: Context,
  ): Span =>
    ids === undefined
      ? opts.tracer.startSpan(name, options, parent)
      : ids.startWith({ traceId: traceIdOfRun(runId), spanId }, () => opts.tracer.startSpan(name, options, parent));
  // Insertion order is age order: the first key is the oldest run.
  const runs = new Map<string, OpenRun>();
  let dropped = 0;

  const runOf = (runId: string): OpenRun => {
    let run = runs.get(runId);
    if (run === undefined) {
      run = { calls: new Map(), firstSeq: 0 };
      runs.set(runId, run);
      if (runs.size > maxOpenRuns) {
        const oldest = runs.keys().next().value;
        if (oldest !== undefined) runs.delete(oldest);
        dropped += 1;
      }
    }
    return run;
  };

  const finish = (run: OpenRun, completed: RunEvent & { type: 'agent_completed' }): void => {
    const started = run.started;
    if (started === undefined) return;
    const root = startSpan(
      started.runId,
      spanIdOfRun(started.runId),
      `invoke_agent ${started.agent}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: Date.parse(started.at),
        attributes: spanAttributes.run(started, completed, run.firstSeq, content),
      },
      run.parent ?? ROOT_CONTEXT,
    );
    if (completed.status === 'failed' || completed.status === 'interrupted') {
      root.setStatus({ code: SpanStatusCode.ERROR, message: completed.error?.message ?? completed.status });
    }
    const spans = new Map<string, Span>();
    const rootContext = trace.setSpan(run.parent ?? ROOT_CONTEXT, root);
    // Calls in the order they started: a sub-agent's `tool_executing` precedes its own calls'.
    for (const [callId, call] of run.calls) {
      const parentSpan = call.executing.parentCallId === undefined ? undefined : spans.get(call.executing.parentCallId);
      const parent = parentSpan === undefined ? rootContext : trace.setSpan(rootContext, parentSpan);
      const subAgent = call.executing.tool.startsWith(SUB_AGENT_PREFIX);
      const name = subAgent
        ? `invoke_agent ${call.executing.tool.slice(SUB_AGENT_PREFIX.length)}`
        : `execute_tool ${call.executing.tool}`;
      const attributes: Attributes = spanAttributes.call(call.executing, call.completed, content);
      const span = startSpan(
        started.runId,
        spanIdOfCall(started.runId, callId),
        name,
        { kind: SpanKind.INTERNAL, startTime: Date.parse(call.executing.at), attributes },
        parent,
      );
      const status = call.completed?.status;
      if (status !== undefined && status !== 'success') {
        span.setStatus({ code: SpanStatusCode.ERROR, message: call.completed?.error?.message ?? status });
      }
      spans.set(callId, span);
    }
    // End children before parents, each at its own completion time.
    for (const [callId, call] of [...run.calls].reverse()) {
      spans.get(callId)?.end(Date.parse(call.completed?.at ?? completed.at));
    }
    root.end(Date.parse(completed.at));
  };

  return {
    observe(events) {
      for (const event of events) {
        switch (event.type) {
          case 'agent_started': {
            const run = runOf(event.runId);
            run.started = event;
            run.firstSeq = event.seq;
            break;
          }
          case 'agent_thinking':
            break;
          case 'tool_executing': {
            const run = runs.get(event.runId);
            if (run !== undefined && run.calls.size < maxCalls) run.calls.set(event.callId, { executing: event });
            break;
          }
          case 'tool_completed': {
            const call = runs.get(event.runId)?.calls.get(event.callId);
            if (call !== undefined) call.completed = event;
            break;
          }
          case 'agent_completed': {
            const run = runs.get(event.runId);
            if (run === undefined) break;
            runs.delete(event.runId);
            // Spans are created in the context active here, not in whatever the caller had.
            contextApi.with(ROOT_CONTEXT, () => finish(run, event));
            break;
          }
          default: {
            const unreachable: never = event;
            throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
          }
        }
      }
    },
    setParent(runId, carrier) {
      const parent = parseTraceParent(carrier);
      if (parent === undefined) return;
      // Only a run still open, or about to be seen: the start may be committed after this call.
      runOf(runId).parent = parent;
    },
    traceContextOf({ runId, callId }) {
      if (ids === undefined) return undefined;
      const parent = runs.get(runId)?.parent;
      const remote = parent === undefined ? undefined : trace.getSpanContext(parent);
      const traceId = remote?.traceId ?? traceIdOfRun(runId);
      // The run's spans are sampled as their parent is (the SDK's default sampler follows the parent).
      const flags = remote === undefined ? '01' : (remote.traceFlags & 1).toString(16).padStart(2, '0');
      const traceparent = `00-${traceId}-${spanIdOfCall(runId, callId)}-${flags}`;
      const tracestate = remote?.traceState?.serialize();
      return tracestate === undefined || tracestate === '' ? { traceparent } : { traceparent, tracestate };
    },
    openRuns: () => runs.size,
    droppedRuns: () => dropped,
  };
}
