import { DispatchError } from '@toolrun/dispatcher';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/** Why a model call failed, as `details.reason` of the `AGENT_FAILED` error. */
export type ModelFailureReason =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'server_error'
  | 'http_error'
  | 'timeout'
  | 'connection'
  | 'stream'
  | 'malformed_arguments'
  | 'step_limit'
  | 'client_tool';

/** An `AGENT_FAILED` error for the model agent, with the reason (and HTTP status) in `details`. */
export function modelFailure(
  reason: ModelFailureReason,
  message: string,
  opts: { status?: number; cause?: unknown } = {},
) {
  return new DispatchError('AGENT_FAILED', message, {
    details: { reason, ...(opts.status === undefined ? {} : { status: opts.status }) },
    cause: opts.cause,
  });
}

function serverMessage(error: APIError, secret: string): string {
  const text =
    typeof error.error === 'object' && error.error !== null && 'message' in error.error
      ? String((error.error as { message: unknown }).message)
      : '';
  // A server may echo the key it refused; never let it into an event.
  const cleaned = (secret.length > 0 ? text.split(secret).join('[REDACTED]') : text).slice(0, 200);
  return cleaned.length > 0 ? `: ${cleaned}` : '';
}

/**
 * Turns whatever a model call threw into a readable `AGENT_FAILED` {@link DispatchError} naming the
 * cause: HTTP 401/403/404/429/5xx, a time-out, an unreachable server or a broken stream. The caller
 * handles cancellation (the run's signal) before calling this.
 */
export function toModelFailure(
  error: unknown,
  opts: { baseURL: string; model: string; timeoutMs: number; timedOut: boolean; apiKey: string },
): DispatchError {
  if (error instanceof DispatchError) return error;
  const where = `the model server at ${opts.baseURL}`;
  if (opts.timedOut || error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) {
    return modelFailure('timeout', `${where} did not answer within ${opts.timeoutMs} ms (timeoutMs)`, { cause: error });
  }
  if (error instanceof APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return modelFailure('connection', `cannot reach ${where}${cause}`, { cause: error });
  }
  if (error instanceof APIError) {
    const status = error.status;
    const detail = serverMessage(error, opts.apiKey);
    if (status === undefined) {
      return modelFailure('stream', `${where} reported an error in the stream${detail}`, { cause: error });
    }
    const failure = (reason: ModelFailureReason, text: string) =>
      modelFailure(reason, `${text} (HTTP ${status})${detail}`, { status, cause: error });
    if (status === 401) return failure('unauthorized', `${where} refused the API key`);
    if (status === 403) return failure('forbidden', `${where} denied access to model "${opts.model}"`);
    if (status === 404)
      return failure('not_found', `${where} has no model "${opts.model}" or no chat completions endpoint`);
    if (status === 429) return failure('rate_limited', `${where} is rate limiting requests; try again later`);
    if (status >= 500) return failure('server_error', `${where} failed`);
    return failure('http_error', `${where} rejected the request`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return modelFailure('stream', `the response from ${where} could not be read: ${message}`, { cause: error });
}
