import type { z } from 'zod';
import type { UserExecutionContext } from './context.ts';
import type { JsonValue } from './events.ts';
import type { TraceContext } from './ports.ts';

/**
 * What a tool passes to `ctx.heartbeat`: anything JSON. With a string `message` (and an optional
 * `fraction` between 0 and 1) it is also shown as the call's progress.
 */
export type HeartbeatDetails = { message?: string; fraction?: number } & { [key: string]: JsonValue | undefined };

/** Who may call a tool. */
export type ToolAccess = 'user' | 'admin';

/** What a tool's `run` receives besides its input: the scope's frozen context and the call's signal. */
export interface ToolRunContext {
  readonly context: UserExecutionContext;
  /** Aborted on cancel, timeout, run deadline or scope disposal. Long-running tools must honour it. */
  readonly signal: AbortSignal;
  readonly callId: string;
  /**
   * A key that names this call and no other, the same every time this call is delivered: pass it to
   * a downstream API that deduplicates (a payment, an e-mail) so that a repeated delivery does the
   * work once. Derived from the run id and the call id.
   */
  readonly idempotencyKey: string;
  /**
   * Tells the dispatcher the tool is alive (see `heartbeatTimeoutMs`), with optional details: the
   * last details are kept for a `STALLED` error, and a `message` becomes the call's progress
   * (`agent_thinking` with `progress`, at most one per second per call). A no-op once the call ended.
   */
  heartbeat(details?: HeartbeatDetails): void;
  /**
   * The call's W3C trace context when the server traces runs (`undefined` otherwise): the
   * `execute_tool` span of this call in the run's trace. Pass it on to a downstream service (as MCP
   * tool sources do, in `_meta` and the `traceparent` header) so that its spans join the run's trace.
   */
  readonly traceContext?: TraceContext | undefined;
}

/**
 * A tool definition. `input` is a zod schema; `run` gets the parsed input and a
 * {@link ToolRunContext}, and nothing global. `sensitive` lists input or output keys (at any depth)
 * that are redacted from events.
 */
export interface ToolDefinition<TInput extends z.ZodType = z.ZodType, TOutput = unknown> {
  readonly name: string;
  readonly description: string;
  readonly input: TInput;
  readonly output?: z.ZodType<TOutput>;
  readonly access: ToolAccess;
  /** Per-call timeout; the factory's default (30 s) when absent. */
  readonly timeoutMs?: number;
  /**
   * When set, the tool must call `ctx.heartbeat()` at least this often once it is running: a call
   * silent for longer is aborted and completes `timeout` with `error.code` `STALLED` (the last
   * heartbeat's details in `error.details`). `timeoutMs` still caps the whole call.
   */
  readonly heartbeatTimeoutMs?: number;
  readonly sensitive?: readonly string[];
  /**
   * The input's JSON Schema as the registry lists it, for a tool that brings its own (an MCP
   * server's tool); computed from `input` when absent. `input` still validates every call.
   */
  readonly inputSchema?: JsonValue;
  /** Where the tool comes from (an MCP source's name), shown in listings; absent for tools defined in code. */
  readonly source?: string;
  /**
   * Whether a call waits for a person's approval before it runs: `'always'`, or a function of the
   * parsed input and the caller's context deciding per call (README, "Approvals").
   */
  readonly approval?: ToolApproval<z.output<TInput>>;
  /** How long a call may wait for its approval (`APPROVAL_EXPIRED`); the factory's default when absent. */
  readonly approvalTimeoutMs?: number;
  /** Who may decide: the run's `'owner'` (the default), an `'admin'`, or `'both'`. */
  readonly approvers?: ToolApprovers;
  run(input: z.output<TInput>, ctx: ToolRunContext): TOutput | Promise<TOutput>;
}

/** Which calls of a tool need a person's approval: every call, or those the function picks. */
export type ToolApproval<TInput = unknown> =
  | 'always'
  | ((input: TInput, ctx: { readonly context: UserExecutionContext }) => boolean);

/** Who may approve or deny a tool's calls. */
export type ToolApprovers = 'owner' | 'admin' | 'both';

/** A tool of any input and output type, as the registry holds it. */
// `run` is declared as a method, so its parameter is bivariant and every tool fits here.
export type AnyTool = ToolDefinition<z.ZodType, unknown>;

/**
 * Defines a tool, inferring its input type from the schema. The definition is frozen.
 *
 * @example
 * const add = defineTool({
 *   name: 'add',
 *   description: 'Adds two numbers',
 *   input: z.object({ a: z.number(), b: z.number() }),
 *   access: 'user',
 *   run: ({ a, b }) => ({ sum: a + b }),
 * });
 */
export function defineTool<TInput extends z.ZodType, TOutput>(
  definition: ToolDefinition<TInput, TOutput>,
): ToolDefinition<TInput, TOutput> {
  return Object.freeze({ ...definition });
}
