import type { ToolResult, UserExecutionContext } from '@toolrun/dispatcher';
import { DIRECT_RUN_AGENT, DispatchError } from '@toolrun/dispatcher';
import type { Principal } from '../auth/createAuth.ts';
import type { ToolrunServices } from '../services.ts';
import { contextFor } from '../starts/contextFor.ts';
import type { TraceCarrier } from '../tracing.ts';
import { followRun, toolResultOf } from './followRun.ts';

/** Options of {@link startToolRun}. */
export interface StartToolRunOptions {
  readonly principal: Principal;
  readonly tool: string;
  readonly input: unknown;
  readonly threadId?: string | undefined;
  /** Aborting it cancels the run (which still ends with its events, `cancelled`). */
  readonly signal?: AbortSignal | undefined;
  /** The W3C trace context of the request that asks: the parent of the run's trace. */
  readonly traceContext?: TraceCarrier | null | undefined;
}

/** A one-call run in flight. */
export interface ToolRunHandle {
  readonly runId: string;
  readonly threadId: string;
  /** How the call ended; never rejects (a tool's failure is a result). */
  readonly result: Promise<ToolResult>;
  /** Settles once the run's `agent_completed` reached the sink and its scope is disposed. */
  readonly done: Promise<void>;
}

/** The input a one-call run's durable row carries (cluster mode): the tool and its input. */
export interface ToolRunInput {
  readonly tool: string;
  readonly input: unknown;
}

/**
 * Runs ONE tool for `principal` as a run of its own, detached from any connection: the dispatcher's
 * direct run (agent {@link DIRECT_RUN_AGENT}), in a scope of the caller that is disposed as soon as
 * the call ends. Its events are the usual ones (`agent_started`, `tool_executing`, `tool_completed`,
 * `agent_completed`), stored and delivered like any run's, so it shows in the caller's history and
 * feed. The call goes through every guard of the dispatcher (input schema, timeout, rate limit,
 * circuit breaker, redaction).
 *
 * Refused before any event, with a `DispatchError`: a tool the caller may not use or that does not
 * exist (`UNKNOWN_TOOL`: admin tools do not exist for users), and whatever `factory.forRequest`
 * refuses (`SCOPE_LIMIT`, `SHUTTING_DOWN`). Used by `tools.run` and by the MCP server's `tools/call`.
 *
 * In cluster mode (`services.starter.startTool`) the run is made durable and enqueued, and a worker
 * executes it ({@link executeToolRun}); `result` and `done` come from its committed events, and an
 * abort of `signal` cancels it wherever it runs. Resolves once the run is durable (single mode: its
 * `agent_started` is with the sink).
 *
 * @example
 * const handle = await startToolRun(services, { principal, tool: 'calculator', input: { expression: '6*7' } });
 * const result = await handle.result; // { status: 'success', output: { value: 42, … } }
 */
export async function startToolRun(services: ToolrunServices, opts: StartToolRunOptions): Promise<ToolRunHandle> {
  const { factory } = services;
  const { principal } = opts;
  const definition = factory.tools.get(opts.tool);
  if (definition === undefined || (definition.access === 'admin' && !principal.roles.includes('admin'))) {
    throw new DispatchError('UNKNOWN_TOOL', `no tool named ${JSON.stringify(opts.tool.slice(0, 128))}`);
  }
  const startTool = services.starter.startTool;
  if (startTool === undefined) {
    const context = contextFor(factory, principal, opts.threadId);
    if (opts.traceContext) services.runTracer?.setParent(context.runId, opts.traceContext);
    return executeToolRun(services, { context, tool: opts.tool, input: opts.input, signal: opts.signal });
  }
  const { runId, threadId } = await startTool(principal, {
    tool: opts.tool,
    input: opts.input,
    threadId: opts.threadId,
    traceContext: opts.traceContext,
  });
  const signal = opts.signal;
  const onAbort = () => {
    services.cancelRun(runId, 'cancelled by the client').catch((error: unknown) => {
      services.logger.warn({ err: error, runId }, 'could not cancel a tool run');
    });
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const events = followRun(services, principal, runId);
  const done = events.then(
    () => signal?.removeEventListener('abort', onAbort),
    () => signal?.removeEventListener('abort', onAbort),
  );
  const result = events.then(toolResultOf, (error: unknown) => failedCall(error));
  return { runId, threadId, result, done };
}

/**
 * Executes a one-call run here, under `context` (its run id may have been promised already: a
 * worker executes the run an API process made durable). See {@link startToolRun}.
 */
export function executeToolRun(
  services: ToolrunServices,
  opts: { context: UserExecutionContext; tool: string; input: unknown; signal?: AbortSignal | undefined },
): ToolRunHandle {
  const { factory } = services;
  const { context } = opts;
  const scope = factory.forRequest(context);
  const { runId } = context;
  const log = services.logger.child({ correlationId: context.correlationId, runId });
  log.info({ agent: DIRECT_RUN_AGENT, tool: opts.tool, userId: context.userId }, 'run started');

  // A cancel of the caller ends the whole run, not only the call: the run must read `cancelled`.
  const signal = opts.signal;
  const onAbort = () => factory.cancelRun(runId, 'cancelled by the client');
  signal?.addEventListener('abort', onAbort, { once: true });
  const result = scope.execute(opts.tool, opts.input).catch(failedCall);
  if (signal?.aborted) onAbort();
  // Disposing the scope closes the direct run: `completed`, or as it was already stopped (cancelled…).
  const done = result.then(async (ended) => {
    signal?.removeEventListener('abort', onAbort);
    await scope[Symbol.asyncDispose]();
    log.info({ call: ended.status, durationMs: ended.durationMs }, 'run finished');
  });
  done.catch((error: unknown) => log.error({ err: error }, 'run failed to finish'));
  return { runId, threadId: context.threadId, result, done };
}

function failedCall(error: unknown): ToolResult {
  return {
    callId: '',
    status: 'error',
    error: {
      code: error instanceof DispatchError ? error.code : 'TOOL_FAILED',
      message: error instanceof Error ? error.message : String(error),
    },
    durationMs: 0,
  };
}
