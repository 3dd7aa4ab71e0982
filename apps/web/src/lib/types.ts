import type { RouterInputs, RouterOutputs } from '@toolrun/api';

/**
 * The console's data types, all derived from the API's router so the web bundle carries no
 * server code and a change in the contract shows up here as a type error.
 */

/** A run as stored: record, events and tool calls (`runs.get`). */
export type RunDetail = RouterOutputs['runs']['get'];
/** One of the five lifecycle events. */
export type RunEvent = RunDetail['events'][number];
/** `agent_started` | `agent_thinking` | `tool_executing` | `tool_completed` | `agent_completed`. */
export type RunEventType = RunEvent['type'];
/** The event of one type. */
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
/** A run's stored record. */
export type RunRecord = RunDetail['run'];
/** How a tool call ended. */
export type ToolCallStatus = RunEventOf<'tool_completed'>['status'];
/** How a run ended. */
export type RunStatus = RunEventOf<'agent_completed'>['status'];
/** A run record's status: `running` or how it ended. */
export type RunRecordStatus = RunRecord['status'];
/** A plain JSON value as it appears in event payloads. */
export type JsonValue = RunEventOf<'agent_started'>['input'];
/** An agent as listed by `agents.list`. */
export type AgentInfo = RouterOutputs['agents']['list'][number];
/** A tool as listed by `tools.list`. */
export type ToolInfo = RouterOutputs['tools']['list'][number];
/** The input of `runs.list`. */
export type RunsListInput = RouterInputs['runs']['list'];
/** What `metrics.snapshot` returns. */
export type MetricsSnapshot = RouterOutputs['metrics']['snapshot'];
/** A stored isolation audit (`audit.get`). */
export type AuditRecord = RouterOutputs['audit']['get'];
