/**
 * `@toolrun/dispatcher`: the single source of truth for running an agent's tools on behalf of one
 * user request. One factory, one request-scoped dispatcher per request, five events in a
 * guaranteed order, strict per-user isolation. No I/O of its own: ports for everything outside.
 */
export { DIRECT_RUN_AGENT } from './ActiveRun.ts';
export type { AgentInfo, AgentRegistry } from './agentRegistry.ts';
export type { ApprovalDecision, ApprovalOptions, Decider } from './approval/ApprovalDesk.ts';
export { DEFAULT_APPROVAL_TIMEOUT_MS } from './approval/ApprovalDesk.ts';
export type { ApprovalSettlement, ApprovalStatus, ApprovalStore, NewApproval } from './approval/ApprovalStore.ts';
export { APPROVAL_STATUSES } from './approval/ApprovalStore.ts';
export type { MemoryApproval, MemoryApprovalStore } from './approval/createMemoryApprovalStore.ts';
export { createMemoryApprovalStore } from './approval/createMemoryApprovalStore.ts';
export type { ParkedCall, ParkedRun } from './approval/resumeParkedRun.ts';
export type { IsolationAuditReport } from './auditIsolation.ts';
export { auditIsolation } from './auditIsolation.ts';
export type { CreateUserExecutionContextInput, Role, UserExecutionContext } from './context.ts';
export {
  createChildContext,
  createUserExecutionContext,
  idProblem,
  isAdmin,
  isUserExecutionContext,
  MAX_CONTEXT_DEPTH,
  MAX_ID_LENGTH,
} from './context.ts';
export type {
  AgentContext,
  AgentDefinition,
  AgentResumeState,
  AnyAgent,
  ResumedCall,
  ToolResult,
} from './defineAgent.ts';
export { defineAgent } from './defineAgent.ts';
export type {
  AnyTool,
  HeartbeatDetails,
  ToolAccess,
  ToolApproval,
  ToolApprovers,
  ToolDefinition,
  ToolRunContext,
} from './defineTool.ts';
export { defineTool } from './defineTool.ts';
export type { CrossUserDelivery, DeliveryLedger, DeliveryReport } from './deliveryLedger.ts';
export { createDeliveryLedger } from './deliveryLedger.ts';
export type { EmitTimes } from './emitTimes.ts';
export { emitTimes } from './emitTimes.ts';
export type { DispatchErrorCode } from './errors.ts';
export { DISPATCH_ERROR_CODES, DispatchError, isDispatchError, toDispatchError } from './errors.ts';
export type { EventHub, EventPrincipal, EventSubscription, SubscribeOptions } from './eventHub.ts';
export { createEventHub } from './eventHub.ts';
export type {
  AgentCompletedEvent,
  AgentStartedEvent,
  AgentThinkingEvent,
  ApprovalInfo,
  ApprovalState,
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
  ToolProgress,
} from './events.ts';
export {
  APPROVAL_STATES,
  eventId,
  isTerminalEvent,
  parseEventId,
  RUN_EVENT_TYPES,
  RUN_STATUSES,
  runEventSchema,
  TOOL_CALL_STATUSES,
} from './events.ts';
export type { FactoryStats } from './FactoryCore.ts';
export type {
  DispatcherFactory,
  DispatcherFactoryOptions,
  FactoryApprovals,
  RunHandle,
  RunInfo,
} from './factory.ts';
export { createDispatcherFactory } from './factory.ts';
export type { SequenceViolation } from './findOrderingViolations.ts';
export { findOrderingViolations } from './findOrderingViolations.ts';
export { CLIENT_TOOL_PREFIX } from './handOffTool.ts';
export { PROGRESS_INTERVAL_MS } from './heartbeat/HeartbeatWatch.ts';
export type { IsolationProbeOptions, IsolationReport, ProbeRun } from './isolationProbe.ts';
export { runIsolationProbe } from './isolationProbe.ts';
export type { CircuitState } from './limits/CircuitBreaker.ts';
export type {
  DispatcherLimits,
  DispatcherLimitsInput,
  RedactionOptions,
  TokenBucketLimits,
} from './limits/limits.ts';
export { DEFAULT_LIMITS, resolveLimits } from './limits/limits.ts';
export type { MemorySink } from './memorySink.ts';
export { createMemorySink } from './memorySink.ts';
export type { InMemoryMetrics, MetricsSnapshot } from './metrics.ts';
export { createInMemoryMetrics, DURATION_BUCKETS_MS } from './metrics.ts';
export { noopMetrics } from './noopMetrics.ts';
export type {
  CallTracing,
  Clock,
  DispatcherMetrics,
  EventSink,
  IdSource,
  LateResult,
  RateLimiter,
  ToolSwitch,
  TraceContext,
} from './ports.ts';
export type { OrderingRule, OrderingViolation, RunPhase } from './RunStateMachine.ts';
export { ORDERING_RULES, RunStateMachine } from './RunStateMachine.ts';
export { randomIds } from './randomIds.ts';
export { isSecretKey, REDACTED, redact } from './redact.ts';
export { runAgent } from './runAgent.ts';
export type { RequestScopedToolDispatcher, ScopeState } from './scopedDispatcher.ts';
export { systemClock } from './systemClock.ts';
export type { ToolInfo, ToolRegistry } from './toolRegistry.ts';
