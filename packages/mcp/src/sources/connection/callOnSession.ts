import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, CallToolResultSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { DispatchError, type TraceContext } from '@toolrun/dispatcher';

/** The server cannot be reached through this session; `expired` when it forgot the session (HTTP 404). */
export class SessionLost extends Error {
  override readonly name = 'SessionLost';
  constructor(
    message: string,
    readonly expired: boolean,
  ) {
    super(message);
  }
}

/** One `tools/call` to make on a session. */
export interface McpCall {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** The calling span's W3C trace context (`ctx.traceContext`), sent in the request's `_meta`. */
  readonly trace?: TraceContext | undefined;
}

// Past the dispatcher's own timer, so that the dispatcher (which knows the run) is the one to time out.
const SDK_TIMEOUT_MARGIN_MS = 1_000;

/**
 * One `tools/call` on a session, with the call's signal (an abort sends `notifications/cancelled`) and,
 * when runs are traced, the call's trace context in `_meta` (`traceparent`, `tracestate`), so that the
 * server's spans join the run's trace (a Streamable HTTP session also sends it as HTTP headers, see
 * `openSession`).
 * Throws `SessionLost` when the session is gone (connection refused or closed, 404) so that the
 * source reconnects, a `DispatchError` for a failure the server reported, or the signal's reason.
 */
export async function callOnSession(client: Client, call: McpCall): Promise<CallToolResult> {
  const trace = call.trace;
  const meta =
    trace === undefined
      ? undefined
      : trace.tracestate === undefined
        ? { traceparent: trace.traceparent }
        : { traceparent: trace.traceparent, tracestate: trace.tracestate };
  const params = { name: call.tool, arguments: call.args, ...(meta === undefined ? {} : { _meta: meta }) };
  try {
    const result = await client.callTool(params, CallToolResultSchema, {
      signal: call.signal,
      timeout: call.timeoutMs + SDK_TIMEOUT_MARGIN_MS,
    });
    return result as CallToolResult;
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason;
    throw classify(error);
  }
}

/** What a failed request means for the session. */
export function classify(error: unknown): Error {
  if (error instanceof McpError) {
    if (error.code === ErrorCode.ConnectionClosed) return new SessionLost(error.message, false);
    if (error.code === ErrorCode.RequestTimeout) return new DispatchError('TOOL_TIMEOUT', error.message);
    return new DispatchError('TOOL_FAILED', error.message);
  }
  if (error instanceof StreamableHTTPError) {
    if (error.code === 404) return new SessionLost('the server no longer knows the session (404)', true);
    const status = error.code ?? -1;
    if (status >= 500 || status === -1) return new SessionLost(error.message, false);
    return new DispatchError('TOOL_FAILED', error.message);
  }
  const message = error instanceof Error ? messageWithCause(error) : String(error);
  return new SessionLost(message, false);
}

function messageWithCause(error: Error): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
