import { createUserExecutionContext, type Role, type ToolRunContext } from '@toolrun/dispatcher';

let calls = 0;

/**
 * A {@link ToolRunContext} for calling `tool.run` directly in unit tests: it stands in for the one the
 * dispatcher's scope builds, with a real frozen context from `createUserExecutionContext`.
 */
export function toolRunContext(opts: {
  userId: string;
  roles?: readonly Role[];
  signal?: AbortSignal;
  /** Collects what the tool passes to `ctx.heartbeat` (`null` for a bare heartbeat). */
  heartbeats?: unknown[];
}): ToolRunContext {
  calls += 1;
  const context = createUserExecutionContext({
    userId: opts.userId,
    threadId: `thread-${opts.userId}`,
    runId: `run-${opts.userId}-${calls}`,
    roles: opts.roles ?? ['user'],
  });
  const callId = `call-${calls}`;
  return {
    context,
    signal: opts.signal ?? new AbortController().signal,
    callId,
    idempotencyKey: `${context.runId}:${callId}`,
    heartbeat: (details) => opts.heartbeats?.push(details ?? null),
  };
}
