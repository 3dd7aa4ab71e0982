import type { RunEvent, RunEventType, RunStatus, ToolCallStatus } from './events.ts';
import type { TokenBucketLimits } from './limits/limits.ts';

/**
 * Ports: the only ways the dispatcher reaches the outside world. It does no I/O of its own;
 * the server wires a SQLite sink, a Prometheus-backed metrics port and the real clock.
 */

/**
 * Where a run's events go, in seq order.
 *
 * The dispatcher calls `write` for one run with that run's events in seq order and never calls it
 * again for the same run before the previous call's promise settles: events produced meanwhile
 * arrive together in the next call (so an asynchronous sink can group-commit them). Calls for
 * different runs may overlap. A rejected write fails the run closed (`SINK_FAILED`).
 */
export interface EventSink {
  write(events: readonly RunEvent[]): void | Promise<void>;
}

/** Time, injectable for tests. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch: event `at` fields. */
  now(): number;
  /** Monotonic milliseconds: durations, timeouts, rate limits. */
  monotonic(): number;
}

/** Id generation, injectable for tests. */
export interface IdSource {
  runId(): string;
  requestId(): string;
  callId(): string;
  /** For `factory.createContext` without a thread; `thread_<uuid>` when absent. */
  threadId?(): string;
}

/** What the dispatcher counts. An in-memory implementation is `createInMemoryMetrics()`. */
export interface DispatcherMetrics {
  toolExecuted(tool: string, status: ToolCallStatus, durationMs: number): void;
  eventEmitted(type: RunEventType): void;
  runFinished(agent: string, status: RunStatus, durationMs: number): void;
  scopeOpened(): void;
  scopeClosed(): void;
  limitHit(code: string): void;
  contractViolation(rule: string): void;
  isolationViolation(kind: string): void;
  legacyCall(entryPoint: string): void;
  /**
   * A tool's result arrived after its call had already completed (timed out, stalled, cancelled):
   * it is not delivered, only recorded here. Optional, so that older ports keep compiling.
   */
  lateResult?(result: LateResult): void;
}

/** A tool result that came too late to be delivered. */
export interface LateResult {
  readonly runId: string;
  readonly userId: string;
  readonly callId: string;
  readonly tool: string;
  /** How the tool ended: it returned (`success`) or threw something other than its abort reason (`error`). */
  readonly outcome: 'success' | 'error';
  /** How the call had completed, for instance `timeout` with `STALLED`. */
  readonly completedAs: { readonly status: ToolCallStatus; readonly code: string };
  /** Milliseconds from the call's completion to the late result. */
  readonly lateByMs: number;
}

/**
 * The tools an admin has turned off (the kill switch). The server keeps the switches durable and
 * audited; the dispatcher asks once per call, before any other guard but the unknown-tool check, and
 * a disabled tool's call completes at once with `status: 'error'`, `TOOL_DISABLED`.
 */
export interface ToolSwitch {
  /** Why `tool` is disabled, or `undefined` while it is enabled. On the hot path: keep it a lookup. */
  disabledReason(tool: string): string | undefined;
}

/** W3C trace context: the `traceparent` of a span (and the trace's `tracestate`, if any). */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

/**
 * Where a tool call's trace context comes from, when the server traces runs: the span that stands for
 * the call (`execute_tool <tool>` in the run's trace), so that what the tool calls downstream (an MCP
 * server) joins the run's trace as its child. The dispatcher asks only when a tool reads
 * `ctx.traceContext`; it knows nothing of OpenTelemetry.
 */
export interface CallTracing {
  /** The call's trace context, or `undefined` when the run is not traced. */
  traceContextOf(call: { readonly runId: string; readonly callId: string }): TraceContext | undefined;
}

/**
 * Where each user's rate-limit bucket lives. Absent: a token bucket per user in the factory's memory
 * (one process). A cluster passes one whose buckets are shared across processes (`@toolrun/cluster`).
 *
 * `take` is on the hot path of every run start and tool call, so it is synchronous: an implementation
 * that shares buckets over the network decides from local state and reconciles in the background. It
 * must not throw (a rate limit never breaks dispatch).
 */
export interface RateLimiter {
  /**
   * Takes one token from `userId`'s bucket of `limits` (the user's role's; finite capacity) at `now`
   * (the factory clock's `monotonic()` milliseconds): 0 when allowed, otherwise the milliseconds until
   * a token is expected (at least 1).
   */
  take(userId: string, limits: TokenBucketLimits, now: number): number;
}
