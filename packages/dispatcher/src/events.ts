import { z } from 'zod';

/**
 * The five lifecycle events of a run, their shared envelope and their runtime schema.
 * Everything that crosses a package boundary (SQLite rows, SSE and WebSocket messages)
 * is one of these, as plain JSON.
 *
 * @see ../../../README.md and ARCHITECTURE.md, "The five events"
 */

/** The five event types, in the order a run usually emits them. */
export const RUN_EVENT_TYPES = [
  'agent_started',
  'agent_thinking',
  'tool_executing',
  'tool_completed',
  'agent_completed',
] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

/** How one tool call ended. */
export const TOOL_CALL_STATUSES = ['success', 'error', 'timeout', 'cancelled', 'denied'] as const;
export type ToolCallStatus = (typeof TOOL_CALL_STATUSES)[number];

/** How one run ended. */
export const RUN_STATUSES = ['completed', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A JSON value: what event payloads are made of, so they cross SSE, WebSocket and SQLite unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValueSchema),
    z.record(z.string(), jsonValueSchema),
  ]),
);

/**
 * A failure as it appears in events: a stable machine code and a readable message. A type alias
 * (not an interface) so that it is assignable to {@link JsonValue}.
 */
export type ErrorInfo = {
  code: string;
  message: string;
  /** Structured detail, when the code has some (a `STALLED` call's last heartbeat details). */
  details?: JsonValue;
};
const errorInfoSchema = z.object({ code: z.string(), message: z.string(), details: jsonValueSchema.exactOptional() });

/**
 * Progress of a long tool call, carried by `agent_thinking` between that call's `tool_executing` and
 * `tool_completed`, at most one per second per call. `fraction` is between 0 and 1.
 */
export type ToolProgress = {
  callId: string;
  message: string;
  fraction?: number;
};
const toolProgressSchema = z.object({
  callId: z.string(),
  message: z.string(),
  fraction: z.number().min(0).max(1).exactOptional(),
});

/** Fields every event carries. `id` is `${runId}:${seq}`. */
export interface EventEnvelope {
  id: string;
  seq: number;
  runId: string;
  userId: string;
  threadId: string;
  /** ISO-8601, millisecond precision. */
  at: string;
}

export interface AgentStartedEvent extends EventEnvelope {
  type: 'agent_started';
  agent: string;
  input: JsonValue;
  /** How long the run waited in its user's queue before it started, when it was queued. */
  queuedMs?: number;
}

export interface AgentThinkingEvent extends EventEnvelope {
  type: 'agent_thinking';
  text: string;
  /** 1, 2, 3 … per run. */
  step: number;
  /** Present when the thought is about a call's human approval (see README, "Approvals"). */
  approval?: ApprovalInfo;
  /** Set when this is a tool's progress (`ctx.heartbeat({ message })`); `text` is then the message. */
  progress?: ToolProgress;
}

/** Where a call's human approval is: asked for, then decided, expired or cancelled with its run. */
export const APPROVAL_STATES = ['requested', 'approved', 'denied', 'expired', 'cancelled'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/**
 * The `approval` of an `agent_thinking` event, between its call's `tool_executing` and
 * `tool_completed`. A type alias (not an interface) so that it is assignable to {@link JsonValue}.
 */
export type ApprovalInfo = {
  id: string;
  state: ApprovalState;
  callId: string;
  tool: string;
  /** The call's input, redacted as in its `tool_executing`. */
  input: JsonValue;
  /** ISO-8601: when a pending approval expires (`APPROVAL_EXPIRED`). */
  expiresAt: string;
  /** Who approved or denied it. */
  decidedBy?: string;
  /** The reason the decider gave, if any. */
  reason?: string;
};
const approvalInfoSchema = z.object({
  id: z.string().min(1),
  state: z.enum(APPROVAL_STATES),
  callId: z.string(),
  tool: z.string(),
  input: jsonValueSchema,
  expiresAt: z.iso.datetime({ precision: 3 }),
  decidedBy: z.string().exactOptional(),
  reason: z.string().exactOptional(),
});

export interface ToolExecutingEvent extends EventEnvelope {
  type: 'tool_executing';
  callId: string;
  tool: string;
  input: JsonValue;
  /** The sub-agent call (`tool: "agent:<name>"`) that made this call; absent for the run's own agent. */
  parentCallId?: string;
}

export interface ToolCompletedEvent extends EventEnvelope {
  type: 'tool_completed';
  callId: string;
  tool: string;
  status: ToolCallStatus;
  /** Present when `status` is `success`. */
  output?: JsonValue;
  /** Present when `status` is not `success`. */
  error?: ErrorInfo;
  durationMs: number;
}

export interface AgentCompletedEvent extends EventEnvelope {
  type: 'agent_completed';
  status: RunStatus;
  /** Present when `status` is `completed`. */
  result?: JsonValue;
  /** Present when `status` is not `completed`. */
  error?: ErrorInfo;
  durationMs: number;
  toolCalls: number;
}

/** One event of a run: a discriminated union on `type`. */
export type RunEvent =
  | AgentStartedEvent
  | AgentThinkingEvent
  | ToolExecutingEvent
  | ToolCompletedEvent
  | AgentCompletedEvent;

/** The event of a given type. */
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

/** An event before the scope stamps its envelope: what the runner and the dispatcher produce. */
export type RunEventBody = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, keyof EventEnvelope>
    : never
  : never;

const envelopeShape = {
  id: z.string().min(3),
  seq: z.number().int().positive(),
  runId: z.string().min(1),
  userId: z.string().min(1),
  threadId: z.string().min(1),
  at: z.iso.datetime({ precision: 3 }),
};

/**
 * The runtime schema of a {@link RunEvent}; clients can validate what they receive against it.
 *
 * @example
 * const event = runEventSchema.parse(JSON.parse(message));
 */
export const runEventSchema = z.discriminatedUnion('type', [
  z.object({
    ...envelopeShape,
    type: z.literal('agent_started'),
    agent: z.string(),
    input: jsonValueSchema,
    queuedMs: z.number().nonnegative().exactOptional(),
  }),
  z.object({
    ...envelopeShape,
    type: z.literal('agent_thinking'),
    text: z.string(),
    step: z.number().int().positive(),
    approval: approvalInfoSchema.exactOptional(),
    progress: toolProgressSchema.exactOptional(),
  }),
  z.object({
    ...envelopeShape,
    type: z.literal('tool_executing'),
    callId: z.string(),
    tool: z.string(),
    input: jsonValueSchema,
    parentCallId: z.string().exactOptional(),
  }),
  z.object({
    ...envelopeShape,
    type: z.literal('tool_completed'),
    callId: z.string(),
    tool: z.string(),
    status: z.enum(TOOL_CALL_STATUSES),
    output: jsonValueSchema.exactOptional(),
    error: errorInfoSchema.exactOptional(),
    durationMs: z.number().nonnegative(),
  }),
  z.object({
    ...envelopeShape,
    type: z.literal('agent_completed'),
    status: z.enum(RUN_STATUSES),
    result: jsonValueSchema.exactOptional(),
    error: errorInfoSchema.exactOptional(),
    durationMs: z.number().nonnegative(),
    toolCalls: z.number().int().nonnegative(),
  }),
]);

/** The id of the event with `seq` in run `runId`. */
export function eventId(runId: string, seq: number): string {
  return `${runId}:${seq}`;
}

/**
 * Splits an event id into its run id and seq; `undefined` when it is not of the form
 * `${runId}:${seq}`. Run ids may themselves contain `:`, so the seq is after the last one.
 */
export function parseEventId(id: string): { runId: string; seq: number } | undefined {
  const colon = id.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const seqText = id.slice(colon + 1);
  if (!/^[1-9][0-9]{0,15}$/.test(seqText)) return undefined;
  return { runId: id.slice(0, colon), seq: Number(seqText) };
}

/** Whether an event is the last one of its run. */
export function isTerminalEvent(event: RunEvent): event is AgentCompletedEvent {
  return event.type === 'agent_completed';
}
