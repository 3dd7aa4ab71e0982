import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { TraceContext } from '@toolrun/dispatcher';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
// W3C tracestate: list members of printable ASCII, at most 512 characters.
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/**
 * The `fetch` of a Streamable HTTP source's transport: a `tools/call` whose `_meta` carries a
 * `traceparent` (see `callOnSession`) also goes out with the W3C `traceparent` (and `tracestate`) HTTP
 * headers, so that a server instrumented at the HTTP layer joins the run's trace too. The SDK has no
 * per-request headers; the message itself says which trace it belongs to. Anything else is sent as is.
 */
export const fetchWithTraceHeaders: FetchLike = (url, init) => {
  const trace = traceOf(init?.body);
  if (trace === undefined || init === undefined) return fetch(url, init);
  const headers = new Headers(init.headers);
  headers.set('traceparent', trace.traceparent);
  if (trace.tracestate !== undefined) headers.set('tracestate', trace.tracestate);
  return fetch(url, { ...init, headers });
};

/** The trace context in the `_meta` of a single `tools/call` message, when there is a valid one. */
function traceOf(body: RequestInit['body'] | undefined): TraceContext | undefined {
  if (typeof body !== 'string' || !body.includes('"traceparent"')) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const { method, params } = message as { method?: unknown; params?: { _meta?: Record<string, unknown> } };
  const meta = method === 'tools/call' ? params?._meta : undefined;
  const traceparent = meta?.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return undefined;
  const tracestate = meta?.tracestate;
  return typeof tracestate === 'string' && TRACESTATE.test(tracestate) ? { traceparent, tracestate } : { traceparent };
}
