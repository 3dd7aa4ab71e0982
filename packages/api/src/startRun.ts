import type { JsonValue } from '@toolrun/dispatcher';
import type { Principal } from './auth/createAuth.ts';
import { badInput } from './badInput.ts';
import type { ToolrunServices, TraceCarrier } from './services.ts';

/** What {@link startRun} starts. */
export interface StartRunRequest {
  agent: string;
  /** The agent's input; `{}` when absent. */
  input?: JsonValue | undefined;
  /** An existing conversation to continue; a new thread when absent. */
  threadId?: string | undefined;
  /** The W3C trace context of the request that asks: the parent of the run's trace. */
  traceContext?: TraceCarrier | null | undefined;
}

/** A started run: durable (its `agent_started` committed) before this is returned. */
export interface StartedRun {
  runId: string;
  threadId: string;
}

/**
 * Starts `agent` with `input` for `principal`, detached from the caller's connection: the one way
 * every transport (`runs.start`, the AG-UI endpoint) starts a run. Refusals come before any event:
 * an input over `maxRunInputBytes` (a `BAD_REQUEST` `TRPCError` naming `input`), and the factory's own
 * (`UNKNOWN_AGENT`, `INVALID_INPUT` with the schema's issues, `INVALID_CONTEXT` for a bad thread id,
 * limits) as `DispatchError`s; `toTRPCError` maps either. Resolves once the run's first event is
 * committed, so a client told of the run can always resume or cancel it.
 */
export async function startRun(
  services: ToolrunServices,
  principal: Principal,
  request: StartRunRequest,
): Promise<StartedRun> {
  const runInput = request.input ?? {};
  const bytes = Buffer.byteLength(JSON.stringify(runInput), 'utf8');
  if (bytes > services.config.maxRunInputBytes) {
    badInput(['input'], `must be at most ${services.config.maxRunInputBytes} bytes as JSON, got ${bytes}`);
  }
  const context = services.factory.createContext({
    userId: principal.userId,
    roles: principal.roles,
    ...(request.threadId === undefined ? {} : { threadId: request.threadId }),
  });
  const handle = services.factory.startRun({ context, agent: request.agent, input: runInput });
  // At once: the tracer builds the run's trace when it ends, and must know its parent by then.
  if (request.traceContext) services.runTracer?.setParent(handle.runId, request.traceContext);
  const log = services.logger.child({ correlationId: context.correlationId, runId: handle.runId });
  log.info({ agent: request.agent, userId: principal.userId }, 'run started');
  handle.done.then(
    (done) => log.info({ status: done.status, durationMs: done.durationMs, toolCalls: done.toolCalls }, 'run finished'),
    (error: unknown) => log.error({ err: error }, 'run failed to finish'),
  );
  // Acknowledge only a durable run: a client told of a run that a crash then loses could
  // never resume or cancel it. The run's channel hands agent_started to the sink in a
  // microtask queued before this await, so the flush that follows covers it.
  await Promise.resolve();
  await services.sink.flush();
  return { runId: handle.runId, threadId: context.threadId };
}
