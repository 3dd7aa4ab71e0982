import { createHash, randomBytes } from 'node:crypto';

/**
 * The OpenTelemetry SDK's `IdGenerator` (`sdk-trace-base`), by shape: this package depends on
 * `@opentelemetry/api` only.
 */
export interface SpanIdGenerator {
  generateTraceId(): string;
  generateSpanId(): string;
}

/** The ids a span is about to get. */
interface NextIds {
  readonly traceId: string;
  readonly spanId: string;
}

const hex = (text: string, bytes: number): string => {
  const digest = createHash('sha256')
    .update(text)
    .digest('hex')
    .slice(0, bytes * 2);
  // W3C: an all-zero id is invalid. (2^-64 at worst, but a trace must never be dropped for it.)
  return /^0+$/.test(digest) ? `${digest.slice(0, -1)}1` : digest;
};

/** The trace id of a run that no request named a parent for: derived from its run id. */
export function traceIdOfRun(runId: string): string {
  return hex(`toolrun:trace:${runId}`, 16);
}

/** The span id of a run's `invoke_agent` span. */
export function spanIdOfRun(runId: string): string {
  return hex(`toolrun:run:${runId}`, 8);
}

/** The span id of one call's span (`execute_tool`, or `invoke_agent` for a sub-agent call). */
export function spanIdOfCall(runId: string, callId: string): string {
  return hex(`toolrun:call:${runId}:${callId}`, 8);
}

/**
 * Span ids derived from run and call ids, so that a tool call knows the id its span will have when the
 * run's trace is built (at the run's end, from the events), and can pass it on as a `traceparent`
 * while it runs; in any process, with no state shared. Give it to the tracer provider as its
 * `idGenerator` and to `createRunTracer` as `ids`: the run tracer sets the ids of each span it starts;
 * any other span gets random ids, as with the SDK's own generator.
 */
export class DerivedSpanIds implements SpanIdGenerator {
  #next: NextIds | undefined;

  /** Runs `start` (one `tracer.startSpan`) with the span's ids set to `ids`. */
  startWith<T>(ids: NextIds, start: () => T): T {
    this.#next = ids;
    try {
      return start();
    } finally {
      this.#next = undefined;
    }
  }

  generateTraceId(): string {
    return this.#next?.traceId ?? randomBytes(16).toString('hex');
  }

  generateSpanId(): string {
    return this.#next?.spanId ?? randomBytes(8).toString('hex');
  }
}
