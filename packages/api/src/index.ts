import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './root.ts';

// Types the server and clients need without depending on the dispatcher themselves.
export type {
  DispatcherMetrics,
  MetricsSnapshot,
  RunEvent,
  RunEventType,
  RunStatus,
  ToolCallStatus,
} from '@toolrun/dispatcher';
export { emitTimes, findOrderingViolations } from '@toolrun/dispatcher';
export type { AuthErrorCode } from './auth/AuthError.ts';
export { AUTH_ERROR_CODES, AuthError, isAuthError } from './auth/AuthError.ts';
export type {
  Auth,
  AuthOptions,
  DevAuthOptions,
  ExternalAuthOptions,
  IssuedToken,
  Principal,
  VerifiedToken,
} from './auth/createAuth.ts';
export { createAuth, DEV_TOKEN_AUDIENCE, DEV_TOKEN_ISSUER } from './auth/createAuth.ts';
export { loadOrCreateSecret, SECRET_FILE_NAME } from './auth/loadOrCreateSecret.ts';
export type { ClusterPorts } from './cluster/ClusterPorts.ts';
export type { ConnectionInfo, Context, CreateContextOptions, WhenWritable } from './context.ts';
export { createContext } from './context.ts';
export type { FoundRun } from './findRun.ts';
export { findRun } from './findRun.ts';
export type { InputIssue } from './formatIssues.ts';
export type { CapCode } from './limits/CapError.ts';
export { CAP_CODES, CapError, isCapError } from './limits/CapError.ts';
export type { SubscriptionCaps, SubscriptionOwner } from './limits/subscriptionCounter.ts';
export { DEFAULT_SUBSCRIPTION_CAPS } from './limits/subscriptionCounter.ts';
export type { Logger } from './logger.ts';
export { silentLogger } from './logger.ts';
export type { AppRouter } from './root.ts';
export { appRouter } from './root.ts';
export { DEFAULT_PROBE_AGENT } from './routers/audit.ts';
export type { FollowRunOptions } from './runs/followRun.ts';
export { completionOf, followRun, toolResultOf } from './runs/followRun.ts';
export { resumeParkedRuns } from './runs/resumeParkedRuns.ts';
export type { StartToolRunOptions, ToolRunHandle, ToolRunInput } from './runs/startToolRun.ts';
export { executeToolRun, startToolRun } from './runs/startToolRun.ts';
export { CANARY_USER_ID, isServiceIdentity, SERVICE_USER_IDS } from './serviceIdentities.ts';
export type {
  ServicesConfig,
  ToolrunServices,
  ToolrunServicesOptions,
  ToolSourceStatus,
  ToolSources,
} from './services.ts';
export { createToolrunServices, DEFAULT_SERVICES_CONFIG } from './services.ts';
export type { StartedRun, StartRunRequest } from './startRun.ts';
export { startRun } from './startRun.ts';
export type { QueuedRunEnding } from './starts/closeQueuedRun.ts';
export { queuedRunEvents } from './starts/closeQueuedRun.ts';
export { contextFor } from './starts/contextFor.ts';
export type {
  QueuedRunInfo,
  RunStarter,
  RunStarterOptions,
  StartRequest,
  StartResult,
  StartsConfig,
  ToolStartRequest,
} from './starts/createRunStarter.ts';
export { DEFAULT_STARTS_CONFIG } from './starts/createRunStarter.ts';
export type { ListedRun } from './starts/listRunsWithQueued.ts';
export { queuedRunRecord, traceContextOf } from './starts/queuedRunRecord.ts';
export { startOnce } from './starts/startOnce.ts';
export type { StreamRunEventsOptions } from './streams/streamRunEvents.ts';
export { streamRunEvents } from './streams/streamRunEvents.ts';
export type { ToolSwitchboard, ToolSwitchState } from './toolSwitchboard.ts';
export type { TRPCErrorCode } from './toTRPCError.ts';
export { AUTH_TO_TRPC, DB_TO_TRPC, DISPATCH_TO_TRPC, toTRPCError } from './toTRPCError.ts';
export type { RunTracerPort, TraceCarrier } from './tracing.ts';
export type { ToolrunErrorData } from './trpc.ts';
export { createCallerFactory, SSE_PING_MS, SSE_RECONNECT_AFTER_INACTIVITY_MS } from './trpc.ts';

/** Every procedure's input type: `RouterInputs['runs']['start']`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Every procedure's output type: `RouterOutputs['runs']['get']`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
