import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Principal, ToolrunServices } from '@toolrun/api';
import { completionOf, followRun, startToolRun, toolResultOf } from '@toolrun/api';
import type { ErrorInfo, JsonValue } from '@toolrun/dispatcher';
import { isDispatchError } from '@toolrun/dispatcher';
import { forwardProgress, type ProgressTarget, progressOf } from './forwardProgress.ts';
import type { McpToolTarget } from './listMcpTools.ts';

/** The `_meta` key under which a result names the run it was (`runs.get`, the console). */
export const RUN_ID_META = 'toolrun/runId';

/** Options of {@link callMcpTool}. */
export interface McpCallOptions {
  readonly services: ToolrunServices;
  readonly principal: Principal;
  readonly target: McpToolTarget;
  readonly args: Record<string, unknown> | undefined;
  /** The request's signal: `notifications/cancelled` aborts it, and that cancels the run. */
  readonly signal: AbortSignal;
  /** Present when the client sent a progress token. */
  readonly progress?: ProgressTarget | undefined;
}

/**
 * Runs one MCP `tools/call` as an ordinary run of the caller: a tool as a one-call run
 * (`startToolRun`), `agent__<name>` as an agent run. Either way the run is stored with its events and
 * shows in the caller's history and feed. Resolves once the run has ended, with the output, or with
 * `isError: true` and the dispatcher's code and message (never a stack). Never rejects. In cluster mode
 * (`services.runsElsewhere`) a worker executes the run and this process follows its committed events.
 */
export async function callMcpTool(opts: McpCallOptions): Promise<CallToolResult> {
  const { services, principal, target, signal } = opts;
  const input = target.wrapped ? opts.args?.input : (opts.args ?? {});
  let runId: string | undefined;
  try {
    if (services.runsElsewhere) return await callOnWorker(opts, input);
    if (target.kind === 'tool') {
      const handle = await startToolRun(services, { principal, tool: target.name, input, signal });
      runId = handle.runId;
      const progress = opts.progress && forwardProgress(services, principal, runId, opts.progress);
      const result = await handle.result;
      await handle.done;
      await progress?.finished;
      return result.status === 'success' ? success(result.output, runId) : failure(result.status, result.error, runId);
    }
    const { factory } = services;
    const context = factory.createContext({ userId: principal.userId, roles: principal.roles });
    // Subscribed before the run starts: no thought can be committed before the subscription exists.
    const progress = opts.progress && forwardProgress(services, principal, context.runId, opts.progress);
    let completed: Awaited<ReturnType<typeof factory.startRun>['done']>;
    try {
      const handle = factory.startRun({ context, agent: target.name, input, signal });
      runId = handle.runId;
      services.logger.info({ runId, agent: target.name, userId: principal.userId, via: 'mcp' }, 'run started');
      completed = await handle.done;
    } catch (error) {
      progress?.stop();
      throw error;
    }
    await progress?.finished;
    return completed.status === 'completed'
      ? success(completed.result ?? null, context.runId)
      : failure(
          completed.status,
          completed.error ?? { code: 'AGENT_FAILED', message: completed.status },
          context.runId,
        );
  } catch (error) {
    // Refusals before any event: unknown or forbidden, invalid input, limits, shutting down.
    const info: ErrorInfo = isDispatchError(error)
      ? { code: error.code, message: error.message }
      : { code: 'INTERNAL', message: 'the call failed inside Toolrun' };
    if (!isDispatchError(error)) services.logger.error({ err: error, runId }, 'MCP tool call failed');
    return failure('refused', info, runId);
  }
}

/**
 * Cluster mode: the call's run is made durable and enqueued like any (`runs.start`, `tools.run`), a
 * worker executes it, and the answer comes from its committed events as a follower of the run reads
 * them (progress included); an abort of the request cancels it wherever it runs. Refusals throw.
 */
async function callOnWorker(opts: McpCallOptions, input: unknown): Promise<CallToolResult> {
  const { services, principal, target, signal } = opts;
  const { starter } = services;
  const started =
    target.kind === 'agent'
      ? await starter.start(principal, { agent: target.name, input: input ?? {} })
      : await (starter.startTool ?? refuseToolRuns)(principal, { tool: target.name, input });
  const { runId } = started;
  services.logger.info({ runId, [target.kind]: target.name, userId: principal.userId, via: 'mcp' }, 'run enqueued');
  const onAbort = () => {
    services.cancelRun(runId, 'cancelled by the client').catch((error: unknown) => {
      services.logger.warn({ err: error, runId }, 'could not cancel an MCP call’s run');
    });
  };
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  let events: Awaited<ReturnType<typeof followRun>>;
  try {
    events = await followRun(services, principal, runId, opts.progress ? { onEvents: progressOf(opts.progress) } : {});
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (target.kind === 'tool') {
    const result = toolResultOf(events);
    return result.status === 'success' ? success(result.output, runId) : failure(result.status, result.error, runId);
  }
  const end = completionOf(events);
  return end.status === 'completed'
    ? success(end.result ?? null, runId)
    : failure(end.status, end.error ?? { code: 'AGENT_FAILED', message: end.status }, runId);
}

function refuseToolRuns(): never {
  throw new Error('this run starter hands no tool runs to workers');
}

function success(output: JsonValue, runId: string): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(output) }],
    ...(isRecord(output) ? { structuredContent: output } : {}),
    _meta: { [RUN_ID_META]: runId },
  };
}

function failure(status: string, error: ErrorInfo, runId: string | undefined): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.code}: ${error.message}` }],
    structuredContent: { status, error: { code: error.code, message: error.message } },
    ...(runId === undefined ? {} : { _meta: { [RUN_ID_META]: runId } }),
  };
}

function isRecord(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
