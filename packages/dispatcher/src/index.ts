export type { CreateUserExecutionContextInput, Role, UserExecutionContext } from './context.ts';
export {
  createChildContext,
  createUserExecutionContext,
  idProblem,
  isAdmin,
  MAX_CONTEXT_DEPTH,
  MAX_ID_LENGTH,
} from './context.ts';
export type { AgentContext, AgentDefinition, AnyAgent, ToolResult } from './defineAgent.ts';
export { defineAgent } from './defineAgent.ts';
export type { AnyTool, ToolAccess, ToolDefinition, ToolRunContext } from './defineTool.ts';
export { defineTool } from './defineTool.ts';
export type { DispatchErrorCode } from './errors.ts';
export { DISPATCH_ERROR_CODES, DispatchError, isDispatchError } from './errors.ts';
export type {
  AgentCompletedEvent,
  AgentStartedEvent,
  AgentThinkingEvent,
  ErrorInfo,
  EventEnvelope,
  JsonValue,
  RunEvent,
  RunEventBody,
  RunEventOf,
  RunEventType,
  RunStatus,
  ToolCallStatus,
  ToolCompletedEvent,
  ToolExecutingEvent,
} from './events.ts';
export {
  eventId,
  isTerminalEvent,
  parseEventId,
  RUN_EVENT_TYPES,
  RUN_STATUSES,
  runEventSchema,
  TOOL_CALL_STATUSES,
} from './events.ts';
export type { Clock, DispatcherMetrics, EventSink, IdSource } from './ports.ts';
