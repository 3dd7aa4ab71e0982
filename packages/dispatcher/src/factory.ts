import type { ActiveRun } from './ActiveRun.ts';
import { type AgentRegistry, createAgentRegistry } from './agentRegistry.ts';
import { type ApprovalDecision, type ApprovalOptions, attachApprovalDesk } from './approval/ApprovalDesk.ts';
import { type ParkedRun, resumeParkedRun } from './approval/resumeParkedRun.ts';
import { checkAgentStart } from './checkAgentStart.ts';
import { createUserExecutionContext, isUserExecutionContext, type Role, type UserExecutionContext } from './context.ts';
import type { AnyAgent } from './defineAgent.ts';
import type { AnyTool } from './defineTool.ts';
import { DispatchError } from './errors.ts';
import type { AgentCompletedEvent, ApprovalInfo, JsonValue } from './events.ts';
import { FactoryCore, type FactoryStats } from './FactoryCore.ts';
import { type DispatcherLimits, type DispatcherLimitsInput, resolveLimits } from './limits/limits.ts';
import { noopMetrics } from './noopMetrics.ts';
import type { CallTracing, Clock, DispatcherMetrics, EventSink, IdSource, RateLimiter, ToolSwitch } from './ports.ts';
import { randomIds } from './randomIds.ts';
import { launchAgentRun, prepareAgentRun } from './runAgent.ts';
import { openScope, type RequestScopedToolDispatcher } from './scopedDispatcher.ts';
import { systemClock } from './systemClock.ts';
import { createToolRegistry, type ToolRegistry } from './toolRegistry.ts';

/** Where a factory keeps its core, for the compatibility facades in this package. Internal. */
export const FACTORY_CORE = Symbol('factoryCore');

/** The core behind a factory made by {@link createDispatcherFactory}; undefined for anything else. */
export function coreOf(factory: unknown): FactoryCore | undefined {
  const core = (factory as { [FACTORY_CORE]?: unknown } | null | undefined)?.[FACTORY_CORE];
  return core instanceof FactoryCore ? core : undefined;
}

/** Options of {@link createDispatcherFactory}. Only `tools` and `sink` are required. */
export interface DispatcherFactoryOptions {
  readonly tools: readonly AnyTool[];
  readonly agents?: readonly AnyAgent[];
  /** Where every run's events go, in seq order (a SQLite sink in the server). */
  readonly sink: EventSink;
  readonly limits?: DispatcherLimitsInput;
  readonly metrics?: DispatcherMetrics;
  readonly clock?: Clock;
  readonly ids?: IdSource;
  /** The admin kill switch per tool; every tool is enabled when absent. */
  readonly toolSwitch?: ToolSwitch;
  /** Each tool call's trace context (`ctx.traceContext`), when the server traces runs. */
  readonly tracing?: CallTracing;
  /** Human approval of tool calls: the store and the default deadline (README, "Approvals"). */
  readonly approvals?: ApprovalOptions;
  /**
   * Where the per-user rate-limit buckets live; default: in this factory's memory. A cluster shares
   * them across processes (`@toolrun/cluster`'s `createSharedRateLimit`).
   */
  readonly rateLimiter?: RateLimiter;
}

/** A factory's approvals (README, "Approvals"). */
export interface FactoryApprovals {
  /**
   * Approves or denies a waiting call; resolves with the approval as decided. Rejects with a
   * `DispatchError`: `APPROVAL_NOT_FOUND` (no call of this factory waits for it), `APPROVAL_FORBIDDEN`
   * (the tool's `approvers` exclude the decider), `APPROVAL_DECIDED` (another settlement won first).
   */
  decide(decision: ApprovalDecision): Promise<ApprovalInfo>;
  /** Continues a run that was waiting for approval when an earlier process stopped. */
  resume(parked: ParkedRun): { done: Promise<AgentCompletedEvent> };
  /** How many calls wait for approval in this factory. */
  waiting(): number;
}

/** A run started with `startRun`, detached from any connection. */
export interface RunHandle {
  readonly runId: string;
  readonly context: UserExecutionContext;
  readonly agent: string;
  /** The run's `agent_completed`, once the sink has taken it and the run's scope is disposed. Never rejects. */
  readonly done: Promise<AgentCompletedEvent>;
  cancel(reason?: string): void;
}

/** An active run, for listings. */
export interface RunInfo {
  runId: string;
  userId: string;
  threadId: string;
  agent: string;
  startedAt: string;
}

/** The one factory: the only way to get a dispatcher. */
export interface DispatcherFactory {
  readonly tools: ToolRegistry;
  readonly agents: AgentRegistry;
  readonly limits: DispatcherLimits;
  /**
   * The scope of one request. Throws `INVALID_CONTEXT` (not made by `createUserExecutionContext`),
   * `CONTEXT_IN_USE` (the context or its run already has a scope), `SCOPE_LIMIT` (the user holds
   * `maxScopesPerUser` live scopes; nothing is evicted) or `SHUTTING_DOWN`.
   */
  forRequest(context: UserExecutionContext): RequestScopedToolDispatcher;
  /** A fresh context with a new run id (and thread id unless given), from the factory's id source. */
  createContext(input: {
    userId: string;
    threadId?: string;
    roles?: readonly Role[];
    metadata?: Record<string, JsonValue>;
  }): UserExecutionContext;
  /**
   * Starts an agent run detached from any connection, in a scope of its own that is disposed when
   * the run ends. Validates synchronously and throws a `DispatchError` before any event
   * (`UNKNOWN_AGENT`, `INVALID_INPUT` with the issues as details, `ACCESS_DENIED`, `INPUT_TOO_LARGE`,
   * `CONCURRENT_RUN_LIMIT`, `RATE_LIMITED`, `SCOPE_LIMIT`, `CONTEXT_IN_USE`, `SHUTTING_DOWN`);
   * otherwise returns at once while the events flow to the sink.
   */
  startRun(opts: {
    context: UserExecutionContext;
    agent: string;
    input: unknown;
    signal?: AbortSignal;
    /** How long the run waited in a queue before this start; carried by `agent_started.queuedMs`. */
    queuedMs?: number;
  }): RunHandle;
  /**
   * The checks of `startRun` that do not depend on load (`SHUTTING_DOWN`, `UNKNOWN_AGENT`,
   * `INVALID_CONTEXT`, `ACCESS_DENIED`, `INPUT_TOO_LARGE`, `INVALID_INPUT`), without booking
   * anything: a start that passes them may wait in a queue and still start later.
   */
  checkStart(opts: { context: UserExecutionContext; agent: string; input: unknown }): void;
  activeRuns(): RunInfo[];
  /** Cancels an active run; false when there is none with that id. The run still ends with its events. */
  cancelRun(runId: string, reason?: string): boolean;
  /** Live scopes, of everyone or of one user. */
  liveScopes(userId?: string): number;
  /**
   * Replaces the tool registry with a new immutable snapshot built from `tools` (tools that come and
   * go at run time, such as an MCP server's). The new registry is built and validated first
   * (`INVALID_REGISTRY`, the current one kept) and then swapped in one step: a call sees the old or
   * the new registry, never a mix; calls already running finish with the tool they started with.
   */
  replaceTools(tools: readonly AnyTool[]): void;
  stats(): FactoryStats;
  /**
   * Shutdown: refuses new scopes and runs (`SHUTTING_DOWN`), lets go of runs parked on approval
   * that a later process can resume (no event: they stay pending in the approval store), waits up to
   * `graceMs` for active runs, interrupts the rest, and resolves when every run has emitted
   * `agent_completed` and the sink took it.
   */
  drain(opts: { graceMs: number }): Promise<void>;
  readonly approvals: FactoryApprovals;
}

/**
 * Creates THE dispatcher factory. The tool and agent registries are built and validated once
 * (`INVALID_REGISTRY`), limits merged onto the defaults (`INVALID_LIMITS`).
 *
 * @example
 * const factory = createDispatcherFactory({ tools: [add], agents: [echo], sink: { write: (events) => save(events) } });
 * await using scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
 * const result = await scope.execute('add', { a: 1, b: 2 });
 */
export function createDispatcherFactory(opts: DispatcherFactoryOptions): DispatcherFactory {
  if (!Array.isArray(opts.tools) || (opts.agents !== undefined && !Array.isArray(opts.agents))) {
    throw new DispatchError('INVALID_REGISTRY', 'tools (and agents, when given) must be arrays of definitions');
  }
  if (typeof opts.sink?.write !== 'function') {
    throw new DispatchError('INVALID_REGISTRY', 'sink must be an EventSink with a write(events) method');
  }
  const limits = resolveLimits(opts.limits);
  const core = new FactoryCore(
    createToolRegistry(opts.tools, { defaultTimeoutMs: limits.toolTimeoutMs }),
    createAgentRegistry(opts.agents ?? []),
    opts.sink,
    limits,
    opts.metrics ?? noopMetrics,
    opts.clock ?? systemClock,
    opts.ids ?? randomIds,
    opts.toolSwitch,
    opts.tracing,
    opts.rateLimiter,
  );
  const desk = attachApprovalDesk(core, opts.approvals);
  const approvals: FactoryApprovals = Object.freeze({
    decide: (decision: ApprovalDecision) => desk.decide(decision),
    resume: (parked: ParkedRun) => resumeParkedRun(core, parked),
    waiting: () => desk.gates.size,
  });
  // Reads whichever snapshot is current: `replaceTools` swaps it whole.
  const toolRegistry: ToolRegistry = Object.freeze({
    list: () => core.tools.list(),
    listFor: (roles: readonly Role[]) => core.tools.listFor(roles),
    get: (name: string) => core.tools.get(name),
  });

  const info = (run: ActiveRun): RunInfo => ({
    runId: run.runId,
    userId: run.userId,
    threadId: run.threadId,
    agent: run.agent,
    startedAt: run.startedAt,
  });

  return Object.freeze({
    [FACTORY_CORE]: core,
    approvals,
    tools: toolRegistry,
    agents: core.agents,
    limits,
    forRequest: (context: UserExecutionContext) => openScope(core, context),
    createContext: (input: Parameters<DispatcherFactory['createContext']>[0]) => {
      const ids = core.ids;
      return createUserExecutionContext({
        ...input,
        threadId: input.threadId ?? ids.threadId?.() ?? randomIds.threadId?.() ?? ids.runId(),
        runId: ids.runId(),
        requestId: ids.requestId(),
      });
    },
    checkStart: ({ context, agent, input }: Parameters<DispatcherFactory['checkStart']>[0]) => {
      checkAgentStart(core, context, agentToStart(core, agent, context), input);
    },
    startRun: ({ context, agent: name, input, signal, queuedMs }: Parameters<DispatcherFactory['startRun']>[0]) => {
      const agent = agentToStart(core, name, context);
      // Every check before the scope is claimed: a refused start leaves the context reusable.
      const prepared = prepareAgentRun(core, context, agent, input, signal);
      let scope: RequestScopedToolDispatcher;
      try {
        scope = openScope(core, context, false);
      } catch (error) {
        prepared.release();
        throw error;
      }
      // The run releases its scope as it settles, before its `done` resolves: the handle's `done`
      // is the run's own, with no promise chain per run.
      const run = launchAgentRun(scope, prepared, signal, true, queuedMs);
      return Object.freeze({
        runId: run.runId,
        context,
        agent: agent.name,
        done: run.done,
        cancel: (reason?: string) => {
          run.abort(new DispatchError('CANCELLED', reason ?? 'cancelled'));
        },
      });
    },
    activeRuns: () => [...core.runs.values()].filter((run) => !run.closed).map(info),
    cancelRun: (runId: string, reason?: string) =>
      core.runs.get(runId)?.abort(new DispatchError('CANCELLED', reason ?? 'cancelled')) ?? false,
    liveScopes: (userId?: string) => core.liveScopes(userId),
    replaceTools: (tools: readonly AnyTool[]) => {
      if (!Array.isArray(tools)) throw new DispatchError('INVALID_REGISTRY', 'tools must be an array of definitions');
      core.tools = createToolRegistry(tools, { defaultTimeoutMs: limits.toolTimeoutMs });
    },
    stats: () => core.stats(),
    drain: async ({ graceMs }: { graceMs: number }) => {
      core.shuttingDown = true;
      // Runs parked on approval stay parked in the store for the next start (README, "Approvals").
      desk.suspendParked();
      const all = (): Promise<unknown> => Promise.all([...core.unsettled].map((run) => run.done));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([all(), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, graceMs))))]);
      clearTimeout(timer);
      for (const run of core.runs.values()) {
        run.abort(new DispatchError('SHUTTING_DOWN', 'the dispatcher is shutting down'));
      }
      await all();
    },
  });
}

// The checks every start begins with: not shutting down, a known agent, a context of ours.
function agentToStart(core: FactoryCore, name: string, context: UserExecutionContext): AnyAgent {
  core.refuseWhenShuttingDown();
  const agent = core.agents.get(name);
  if (!agent) throw new DispatchError('UNKNOWN_AGENT', `no agent named ${JSON.stringify(String(name).slice(0, 128))}`);
  if (!isUserExecutionContext(context)) {
    throw new DispatchError('INVALID_CONTEXT', 'the context was not created by createUserExecutionContext');
  }
  return agent;
}
