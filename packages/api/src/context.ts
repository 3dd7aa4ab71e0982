import { AuthError, isAuthError } from './auth/AuthError.ts';
import type { Principal } from './auth/createAuth.ts';
import type { ToolrunServices } from './services.ts';
import type { TraceCarrier } from './tracing.ts';

/** What every procedure receives. `principal` is `null` for an anonymous or badly authenticated call. */
export interface Context {
  readonly services: ToolrunServices;
  readonly principal: Principal | null;
  /** Why `principal` is `null` although a token was sent (expired, forged, …). */
  readonly authError: AuthError | null;
  /** `exp` of the token in epoch milliseconds; a WebSocket connection outliving it is refused per call. */
  readonly tokenExpiresAtMs: number | null;
  /** The connection's backpressure, when its transport sends without waiting (see {@link WhenWritable}). */
  readonly whenWritable: WhenWritable | null;
  /** The request's W3C trace context (`traceparent` header): the parent of the runs it starts. */
  readonly traceContext: TraceCarrier | null;
  /** The transport the call came over, when it says: subscriptions are capped per user and per connection by it. */
  readonly connection: ConnectionInfo | null;
}

/** Which transport a call came over; `id` tells one WebSocket connection from another. */
export interface ConnectionInfo {
  readonly transport: 'http' | 'sse' | 'ws';
  readonly id: string;
}

/**
 * Backpressure for a transport that sends every message as soon as a subscription yields it
 * (tRPC's WebSocket adapter does): `undefined` while the connection can take more, else a promise
 * that settles once it can, or once `signal` aborts. Subscriptions await it before each message, so
 * a slow reader slows its own stream down instead of growing the server's buffers.
 */
export type WhenWritable = (signal: AbortSignal) => Promise<void> | undefined;

/** Where the bearer token can come from; the transport fills in what it has. */
export interface CreateContextOptions {
  services: ToolrunServices;
  /** The `Authorization` header (`Bearer <token>`). */
  authorization?: string | string[] | null | undefined;
  /** tRPC connection params (SSE query, WebSocket first message): `{ token }` or `{ authorization: 'Bearer …' }`. */
  connectionParams?: Readonly<Record<string, string | undefined>> | null | undefined;
  /** The connection's backpressure; omit where the transport applies it itself (HTTP, SSE). */
  whenWritable?: WhenWritable | undefined;
  /** The request's `traceparent` and `tracestate` headers, as the transport got them. */
  traceparent?: string | string[] | undefined;
  tracestate?: string | string[] | undefined;
  /** The transport and connection; omit for in-process callers (no per-connection caps then). */
  connection?: ConnectionInfo | undefined;
}

const MAX_TOKEN_LENGTH = 8192;

/**
 * Builds a request's context: finds the bearer token (header first, then connection params) and
 * verifies it. Never throws for a bad token: the `authed` middleware refuses the call with
 * `UNAUTHORIZED` instead, so one bad call does not close a WebSocket.
 *
 * @example
 * createHTTPHandler({ router: appRouter,
 *   createContext: ({ req, info }) => createContext({ services, authorization: req.headers.authorization,
 *     connectionParams: info.connectionParams }) });
 */
export async function createContext(opts: CreateContextOptions): Promise<Context> {
  const anonymous = {
    services: opts.services,
    principal: null,
    authError: null,
    tokenExpiresAtMs: null,
    whenWritable: opts.whenWritable ?? null,
    traceContext: traceContextOf(opts),
    connection: opts.connection ?? null,
  };
  const token = findToken(opts);
  if (token === undefined) return anonymous;
  if (token.length > MAX_TOKEN_LENGTH) {
    return { ...anonymous, authError: new AuthError('INVALID_TOKEN', 'the token is too long') };
  }
  try {
    const verified = await opts.services.auth.verify(token);
    return { ...anonymous, principal: verified.principal, tokenExpiresAtMs: verified.expiresAtMs };
  } catch (error) {
    if (isAuthError(error)) return { ...anonymous, authError: error };
    throw error;
  }
}

function findToken(opts: CreateContextOptions): string | undefined {
  const header = Array.isArray(opts.authorization) ? opts.authorization[0] : opts.authorization;
  const fromHeader = bearer(header);
  if (fromHeader !== undefined) return fromHeader;
  const params = opts.connectionParams;
  if (params === null || params === undefined) return undefined;
  if (typeof params.token === 'string' && params.token !== '') return params.token;
  return bearer(params.authorization);
}

function bearer(value: string | null | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

// Only what could be a traceparent is kept (55 characters in version 00); the tracer validates it.
function traceContextOf(opts: CreateContextOptions): TraceCarrier | null {
  const traceparent = Array.isArray(opts.traceparent) ? opts.traceparent[0] : opts.traceparent;
  if (traceparent === undefined || traceparent.length > 128) return null;
  const tracestate = Array.isArray(opts.tracestate) ? opts.tracestate.join(',') : opts.tracestate;
  return tracestate === undefined || tracestate.length > 512 ? { traceparent } : { traceparent, tracestate };
}
