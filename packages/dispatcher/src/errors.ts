/**
 * Every failure the dispatcher reports has one of these codes. `toTRPCError` in `@toolrun/api`
 * maps each to a tRPC code; events carry them in `error.code`.
 */
export const DISPATCH_ERROR_CODES = {
  INVALID_CONTEXT: 'INVALID_CONTEXT',
  UNKNOWN_TOOL: 'UNKNOWN_TOOL',
  UNKNOWN_AGENT: 'UNKNOWN_AGENT',
  INVALID_INPUT: 'INVALID_INPUT',
  INVALID_OUTPUT: 'INVALID_OUTPUT',
  INPUT_TOO_LARGE: 'INPUT_TOO_LARGE',
  ACCESS_DENIED: 'ACCESS_DENIED',
  TOOL_DISABLED: 'TOOL_DISABLED',
  TOOL_FAILED: 'TOOL_FAILED',
  TOOL_TIMEOUT: 'TOOL_TIMEOUT',
  /** The tool's source (an MCP server) cannot be reached now; it is being reconnected. */
  TOOL_UNAVAILABLE: 'TOOL_UNAVAILABLE',
  RUN_DEADLINE: 'RUN_DEADLINE',
  CANCELLED: 'CANCELLED',
  AGENT_FAILED: 'AGENT_FAILED',
  CONCURRENT_RUN_LIMIT: 'CONCURRENT_RUN_LIMIT',
  SCOPE_LIMIT: 'SCOPE_LIMIT',
  RATE_LIMITED: 'RATE_LIMITED',
  PARALLEL_CALL_LIMIT: 'PARALLEL_CALL_LIMIT',
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
  SCOPE_DISPOSED: 'SCOPE_DISPOSED',
  CONTRACT_VIOLATION: 'CONTRACT_VIOLATION',
  SINK_FAILED: 'SINK_FAILED',
  INVALID_REGISTRY: 'INVALID_REGISTRY',
  INTERRUPTED: 'INTERRUPTED',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  RUN_ALREADY_STARTED: 'RUN_ALREADY_STARTED',
  RUN_FINISHED: 'RUN_FINISHED',
  CONTEXT_IN_USE: 'CONTEXT_IN_USE',
  INVALID_SCOPE: 'INVALID_SCOPE',
  INVALID_LIMITS: 'INVALID_LIMITS',
  /** A call handed to the run's client to execute (an AG-UI frontend tool); see `AgentContext.handOffTool`. */
  CLIENT_TOOL: 'CLIENT_TOOL',
  APPROVAL_DENIED: 'APPROVAL_DENIED',
  APPROVAL_EXPIRED: 'APPROVAL_EXPIRED',
  APPROVAL_NOT_FOUND: 'APPROVAL_NOT_FOUND',
  APPROVAL_DECIDED: 'APPROVAL_DECIDED',
  APPROVAL_FORBIDDEN: 'APPROVAL_FORBIDDEN',
  /** A tool sent no heartbeat for longer than its `heartbeatTimeoutMs`. */
  STALLED: 'STALLED',
} as const;
export type DispatchErrorCode = keyof typeof DISPATCH_ERROR_CODES;

/** The one error type of the dispatcher layer. `details` is plain JSON (for example a schema's issues). */
export class DispatchError extends Error {
  override readonly name = 'DispatchError';
  readonly code: DispatchErrorCode;
  readonly details: unknown;

  constructor(code: DispatchErrorCode, message: string, opts: { details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.details = opts.details;
  }
}

/** Whether `value` is a {@link DispatchError}, optionally with a given code. */
export function isDispatchError(value: unknown, code?: DispatchErrorCode): value is DispatchError {
  return value instanceof DispatchError && (code === undefined || value.code === code);
}

/**
 * Turns anything thrown into a {@link DispatchError}: a `DispatchError` is returned as is, anything
 * else becomes `fallback` with the thrown value's message and the value as `cause`.
 */
export function toDispatchError(value: unknown, fallback: DispatchErrorCode): DispatchError {
  if (value instanceof DispatchError) return value;
  let message: string;
  try {
    message =
      value instanceof Error ? value.message : typeof value === 'string' ? value : `${String(value)} was thrown`;
  } catch {
    message = 'an unprintable value was thrown';
  }
  return new DispatchError(fallback, message, { cause: value });
}
