import { initTRPC, TRPCError } from '@trpc/server';
import { AuthError } from './auth/AuthError.ts';
import type { Context } from './context.ts';
import type { InputIssue } from './formatIssues.ts';
import { formatIssues, issuesMessage } from './formatIssues.ts';
import { reasonOf, toTRPCError } from './toTRPCError.ts';

/** Interval of the SSE keep-alive comments (`: ping`), so proxies and clients see a live stream. */
export const SSE_PING_MS = 10_000;
/** Sent to SSE clients: reconnect (resuming by event id) after this long without any message, pings included. */
export const SSE_RECONNECT_AFTER_INACTIVITY_MS = 30_000;

/** The `data` of every error Toolrun returns. Never a stack trace unless the server runs in development. */
export interface ToolrunErrorData {
  code: TRPCError['code'];
  httpStatus: number;
  path?: string;
  /** The code below tRPC: a `DispatchError` code (`RATE_LIMITED`), an `AuthError` code (`EXPIRED_TOKEN`), … */
  reason?: string;
  /** On `BAD_REQUEST`: what is wrong with the input, one entry per problem. */
  issues?: InputIssue[];
  stack?: string;
}

const t = initTRPC.context<Context>().create({
  // Stacks are added back by the formatter in development only.
  isDev: false,
  sse: {
    ping: { enabled: true, intervalMs: SSE_PING_MS },
    client: { reconnectAfterInactivityMs: SSE_RECONNECT_AFTER_INACTIVITY_MS },
  },
  errorFormatter({ shape, error, ctx }) {
    const data: ToolrunErrorData = { code: shape.data.code, httpStatus: shape.data.httpStatus };
    if (shape.data.path !== undefined) data.path = clip(shape.data.path, MAX_PATH_CHARS);
    const reason = reasonOf(error);
    if (reason !== undefined) data.reason = reason;
    if (error.code === 'BAD_REQUEST') {
      const cause: unknown = error.cause;
      const issues = formatIssues(
        cause instanceof Error && 'details' in cause && Array.isArray(cause.details) ? cause.details : cause,
      );
      if (issues !== undefined) data.issues = issues;
    }
    if (ctx?.services.config.exposeStackTraces === true && error.stack !== undefined) data.stack = error.stack;
    return { code: shape.code, message: clip(readableMessage(error, data.issues), MAX_MESSAGE_CHARS), data };
  },
});

// Error answers echo what the caller sent (a procedure path, an input): a hostile caller must not
// be able to make them, and every log line that carries them, as long as its request.
const MAX_MESSAGE_CHARS = 1_000;
const MAX_PATH_CHARS = 200;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

function readableMessage(error: TRPCError, issues: readonly InputIssue[] | undefined): string {
  // tRPC puts a zod error's JSON dump in the message; say it the way a person would.
  if (issues !== undefined && error.message.trimStart().startsWith('[')) {
    return `Invalid input: ${issuesMessage(issues)}`;
  }
  return error.message;
}

/** Builds routers. */
export const createTRPCRouter = t.router;
/** Builds server-side callers (tests, scripts). */
export const createCallerFactory = t.createCallerFactory;

/** Converts anything thrown by a resolver into a `TRPCError` through {@link toTRPCError}. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  // tRPC wraps anything that is not a TRPCError in INTERNAL_SERVER_ERROR, the original as cause: map that cause.
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR' && result.error.cause !== undefined) {
    return { ...result, error: toTRPCError(result.error.cause) };
  }
  return result;
});

/** Anyone, signed in or not. */
export const publicProcedure = t.procedure.use(mapErrors);

/** A signed-in caller; `ctx.principal` is set. Anonymous, expired, forged and unsigned tokens are `UNAUTHORIZED`. */
export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.principal === null) {
    throw toTRPCError(
      ctx.authError ??
        new AuthError(
          'MISSING_TOKEN',
          'sign in first: send `Authorization: Bearer <token>` or connectionParams { token }',
        ),
    );
  }
  if (ctx.tokenExpiresAtMs !== null && Date.now() >= ctx.tokenExpiresAtMs) {
    throw toTRPCError(new AuthError('EXPIRED_TOKEN', 'the token has expired'));
  }
  return next({ ctx: { ...ctx, principal: ctx.principal } });
});

/** A signed-in caller with the admin role; others get `FORBIDDEN`. */
export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (!ctx.principal.roles.includes('admin')) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'this needs the admin role' });
  }
  return next({ ctx });
});
