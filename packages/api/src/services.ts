import { setMaxListeners } from 'node:events';
import { createBuiltinTools, createDemoAgents, createOpenAIAgent } from '@toolrun/agents';
import type { PersistentSink, ToolrunDatabase } from '@toolrun/db';
import { openStorage } from '@toolrun/db';
import type {
  AnyAgent,
  AnyTool,
  ApprovalDecision,
  Clock,
  DeliveryLedger,
  DispatcherFactory,
  DispatcherLimitsInput,
  DispatcherMetrics,
  EventHub,
  IdSource,
  MetricsSnapshot,
} from '@toolrun/dispatcher';
import {
  createDeliveryLedger,
  createDispatcherFactory,
  createEventHub,
  createInMemoryMetrics,
  isDispatchError,
  noopMetrics,
} from '@toolrun/dispatcher';
import type { Auth, AuthOptions } from './auth/createAuth.ts';
import { createAuth } from './auth/createAuth.ts';
import type { ClusterPorts } from './cluster/ClusterPorts.ts';
import { watchedHub } from './cluster/watchedHub.ts';
import type { SubscriptionCaps, SubscriptionOwner } from './limits/subscriptionCounter.ts';
import { createSubscriptionCounter, DEFAULT_SUBSCRIPTION_CAPS } from './limits/subscriptionCounter.ts';
import type { Logger } from './logger.ts';
import { silentLogger } from './logger.ts';
import { resumeParkedRuns } from './runs/resumeParkedRuns.ts';
import {
  createRunStarter,
  DEFAULT_STARTS_CONFIG,
  type RunStarter,
  type StartsConfig,
} from './starts/createRunStarter.ts';
import { teeMetrics } from './teeMetrics.ts';
import { createToolSwitchboard, type ToolSwitchboard } from './toolSwitchboard.ts';
import type { RunTracerPort } from './tracing.ts';

/** One tool source's state, for `/healthz` and `/metrics` (an MCP server's, from `@toolrun/mcp`). */
export interface ToolSourceStatus {
  readonly name: string;
  /** `ready` when its tools can be called; `connecting`, `down` or `closed` otherwise. */
  readonly state: string;
  readonly tools: number;
  readonly processes?: number;
}

/**
 * Tools that come and go while the server runs (MCP servers: `startMcpToolSources` of
 * `@toolrun/mcp` fits this port). Their tools join the registry next to the built-in ones; a change
 * replaces the registry whole. The services close them after the last run.
 */
export interface ToolSources {
  tools(): readonly AnyTool[];
  /** Calls `onChange` after the set of tools changed; returns the unsubscribe function. */
  subscribe(onChange: () => void): () => void;
  health(): readonly ToolSourceStatus[];
  close(): Promise<void>;
}

/** Settings the procedures read. */
export interface ServicesConfig {
  /** Error responses carry stack traces (development only). */
  readonly exposeStackTraces: boolean;
  /** Largest `runs.start` input, as JSON text in bytes (UTF-8). */
  readonly maxRunInputBytes: number;
  /** Most events in one subscription message while replaying history. */
  readonly replayPageSize: number;
  /**
   * Live feeds read their events from the database in commit order whenever the hub has new ones
   * (cluster mode: several processes commit, and their events reach the hub in no common order).
   */
  readonly feedFromDatabase: boolean;
}

/** Options of {@link createToolrunServices}. */
export interface ToolrunServicesOptions {
  /**
   * A `postgres://` URL (PostgreSQL), a SQLite file path or `':memory:'`; or an already open database
   * (the services then own it). Nothing else in the services depends on which backend it is.
   */
  database: string | ToolrunDatabase;
  /**
   * Where a SQLite database opened from a path commits (see `@toolrun/db`'s `writer`): `'thread'` (the
   * default for a file) on a worker thread, `'inline'` on the event loop. PostgreSQL ignores it.
   */
  databaseWriter?: 'thread' | 'inline';
  /** How tokens are issued and verified, or a ready {@link Auth}. */
  auth: AuthOptions | Auth;
  /** Adds the OpenAI-compatible agent (`openai`) when set. */
  openai?: { baseURL: string; apiKey: string; model: string } | undefined;
  limits?: DispatcherLimitsInput;
  /** More tools and agents next to the built-in ones (tests, embedding applications). */
  extraTools?: readonly AnyTool[];
  extraAgents?: readonly AnyAgent[];
  /** Tools from MCP servers (see {@link ToolSources}); a name already taken is `INVALID_REGISTRY` at start. */
  toolSources?: ToolSources;
  /** More metrics ports fed alongside the in-memory one (the server's Prometheus histograms). */
  metricsPorts?: readonly DispatcherMetrics[];
  logger?: Logger;
  config?: Partial<ServicesConfig>;
  clock?: Clock;
  ids?: IdSource;
  /** The run queue and idempotency keys; defaults in `DEFAULT_STARTS_CONFIG`. */
  starts?: Partial<StartsConfig>;
  /** Queue bound of one hub subscriber before it is cut off (`SLOW_CONSUMER`); hub default when absent. */
  maxQueuedEvents?: number;
  /** Caps on open subscriptions per user, per SSE user and per WebSocket connection; defaults in {@link DEFAULT_SUBSCRIPTION_CAPS}. */
  subscriptionCaps?: Partial<SubscriptionCaps>;
  /** How long a call waits for its approval unless its tool says otherwise; the dispatcher's default (15 min) when absent. */
  approvalTimeoutMs?: number;
  /** Follows every committed event, e.g. to export traces (`@toolrun/telemetry`'s `RunTracer` fits). */
  runTracer?: RunTracerPort;
  /** Cluster mode (`@toolrun/cluster`): where runs go and how events cross processes; single mode when absent. */
  cluster?: ClusterPorts;
}

/** Everything the router needs, wired once per process and shared by every request. */
export interface ToolrunServices {
  readonly factory: DispatcherFactory;
  readonly hub: EventHub;
  readonly ledger: DeliveryLedger;
  readonly metrics: DispatcherMetrics & { snapshot(): MetricsSnapshot };
  readonly db: ToolrunDatabase;
  /** The database's persistent sink: events are committed, then published to the hub. */
  readonly sink: PersistentSink;
  /** How runs start: idempotency keys and the per-user queue (see `starts/createRunStarter.ts`). */
  readonly starter: RunStarter;
  readonly auth: Auth;
  readonly logger: Logger;
  readonly config: ServicesConfig;
  /** The tracer runs' events go to, when tracing is on. */
  readonly runTracer: RunTracerPort | undefined;
  /** The admin kill switch per tool (durable, audited); the factory asks it on every call. */
  readonly toolSwitches: ToolSwitchboard;
  /** Runs execute on other processes (cluster mode): the starter hands them to workers. */
  readonly runsElsewhere: boolean;
  /** Aborted when the services close: open subscriptions end. */
  readonly signal: AbortSignal;
  /** The tool sources the services were given, for health and metrics. */
  readonly toolSources: ToolSources | undefined;
  /** Counts the subscriptions a transport is serving; see {@link ToolrunServices.trackSubscription}. */
  subscriptions(): { runs: number; feeds: number };
  /**
   * Called by the subscription procedures; the returned function ends the tracking. With an `owner`,
   * throws a `CapError` (`TOO_MANY_REQUESTS`) instead when the owner is at a subscription cap.
   */
  trackSubscription(kind: 'runs' | 'feeds', owner?: SubscriptionOwner): () => void;
  /**
   * Graceful stop: refuses new runs (`SHUTTING_DOWN`), lets active runs finish within `graceMs`, cancels
   * the rest (each still ends with its `agent_completed`), and commits every event.
   */
  drain(opts: { graceMs: number }): Promise<void>;
  /** Ends open subscriptions and closes the database (the file, or the pool). Call after {@link ToolrunServices.drain}. */
  close(): Promise<void>;
  /**
   * Cancels a run wherever it executes (this process, or a worker of the cluster); false when nothing
   * runs it. The run still ends with its events.
   */
  cancelRun(runId: string, reason: string): Promise<boolean>;
  /**
   * Asks every open subscription to read what it may have missed from the database (a cluster's live
   * path lost events, e.g. Redis restarted). Cheap when nothing was missed.
   */
  resync(): void;
  /** Calls `listener` on each {@link ToolrunServices.resync}; returns the unsubscribe function. */
  onResync(listener: () => void): () => void;
  /**
   * Decides a waiting approval wherever its call waits: in this process's factory, or (cluster mode)
   * relayed to the worker that holds it. Rejects with the dispatcher's `DispatchError`s
   * (`APPROVAL_NOT_FOUND`, `APPROVAL_FORBIDDEN`, `APPROVAL_DECIDED`).
   */
  decideApproval(decision: ApprovalDecision): Promise<void>;
}

export const DEFAULT_SERVICES_CONFIG: ServicesConfig = {
  exposeStackTraces: false,
  maxRunInputBytes: 65_536,
  replayPageSize: 500,
  feedFromDatabase: false,
};

/**
 * Wires one dispatcher factory (built-in tools, demo agents, the OpenAI agent when configured),
 * one event hub with its delivery ledger, in-memory metrics and the database. The sink is the
 * database's persistent sink, whose commits are published to the hub: an event is durable before
 * any subscriber sees it. The admin tools' run control and history purge are bound to this factory
 * and database.
 *
 * @example
 * const services = await createToolrunServices({ database: './data/toolrun.db',
 *   auth: { mode: 'dev', secret: process.env.TOOLRUN_SECRET ?? '' } });
 */
export async function createToolrunServices(opts: ToolrunServicesOptions): Promise<ToolrunServices> {
  const logger = opts.logger ?? silentLogger;
  const auth = 'verify' in opts.auth ? opts.auth : await createAuth(opts.auth);
  // Known before the database opens: crash recovery keeps their runs parked on approval running.
  const agents: AnyAgent[] = [...createDemoAgents()];
  if (opts.openai !== undefined) agents.push(createOpenAIAgent(opts.openai));
  agents.push(...(opts.extraAgents ?? []));
  // A process that executes no runs (a cluster's API process) keeps none parked at recovery: workers adopt them.
  const executesRuns = opts.cluster?.executesRuns ?? true;
  const resumableAgents = executesRuns
    ? agents.filter((agent) => typeof agent.resume === 'function').map((agent) => agent.name)
    : [];
  const db =
    typeof opts.database === 'string'
      ? await openStorage({
          location: opts.database,
          resumableAgents,
          ...(opts.databaseWriter === undefined ? {} : { writer: opts.databaseWriter }),
          ...(opts.cluster?.runLeaseMs === undefined ? {} : { runLeaseMs: opts.cluster.runLeaseMs }),
        })
      : opts.database;
  if (db.recovered.length > 0) {
    // `recovered` holds the events written to close them: one agent_completed per run.
    const runs = db.recovered.filter((event) => event.type === 'agent_completed').length;
    logger.warn({ runs, events: db.recovered.length }, 'closed runs left running by an earlier crash as interrupted');
  }
  const inMemory = createInMemoryMetrics();
  // A tool result that came too late is never delivered; it is counted and logged so it is not lost silently.
  const lateResults: Pick<DispatcherMetrics, 'lateResult'> = {
    lateResult: (result) => logger.warn({ ...result }, 'a tool result arrived after its call had completed'),
  };
  const metrics = {
    ...teeMetrics([inMemory, ...(opts.metricsPorts ?? []), { ...noopMetrics, ...lateResults }]),
    snapshot: () => inMemory.snapshot(),
  };
  const ledger = createDeliveryLedger({ metrics });
  const cluster = opts.cluster;
  const localHub = createEventHub({
    ledger,
    metrics,
    ...(opts.maxQueuedEvents === undefined ? {} : { maxQueuedEvents: opts.maxQueuedEvents }),
  });
  const watch = cluster?.watchSubscriptions;
  const hub = watch === undefined ? localHub : watchedHub(localHub, (userId) => watch(userId));
  const runTracer = opts.runTracer;
  const toHub = cluster?.publishToHub ?? true;
  const onFenced = cluster?.onFenced;
  const sink = db.createPersistentSink({
    ...(onFenced === undefined ? {} : { onFenced: (runIds: readonly string[]) => onFenced(runIds) }),
    onCommitted:
      runTracer === undefined && cluster?.onCommitted === undefined
        ? (events) => hub.publish(events)
        : (events) => {
            if (toHub) hub.publish(events);
            try {
              cluster?.onCommitted?.(events);
            } catch (error) {
              // The database has the events: a live path's fault costs latency, never an event.
              logger.error({ err: error }, 'publishing committed events failed');
            }
            try {
              runTracer?.observe(events);
            } catch (error) {
              // A tracing fault must never cost a delivery.
              logger.error({ err: error }, 'tracing failed');
            }
          },
  });

  // The admin tools reach the factory they belong to, which exists only once they do.
  let factoryRef: DispatcherFactory | undefined;
  const tools = createBuiltinTools({
    scratchpad: db.scratchpad,
    history: { prune: (o) => db.prune(o) },
    runControl: {
      activeRuns: () =>
        opts.cluster?.activeRuns?.() ??
        (factoryRef?.activeRuns() ?? []).map((r) => ({
          runId: r.runId,
          userId: r.userId,
          agent: r.agent,
          startedAt: r.startedAt,
        })),
      cancelRun: (runId, reason) =>
        opts.cluster?.cancelRun?.(runId, reason ?? 'cancelled by an admin') ??
        factoryRef?.cancelRun(runId, reason) ??
        false,
    },
  });
  const toolSwitches = await createToolSwitchboard(db.toolSwitches);
  const fixedTools = [...tools, ...(opts.extraTools ?? [])];
  const toolSources = opts.toolSources;
  // Each tool call's trace context (`ctx.traceContext`), when runs are traced.
  const traceContextOf = runTracer?.traceContextOf?.bind(runTracer);
  const factory = createDispatcherFactory({
    tools: [...fixedTools, ...(toolSources?.tools() ?? [])],
    agents,
    sink,
    metrics,
    approvals: {
      store: db.approvals,
      ...(opts.approvalTimeoutMs === undefined ? {} : { defaultTimeoutMs: opts.approvalTimeoutMs }),
    },
    toolSwitch: toolSwitches,
    ...(traceContextOf === undefined ? {} : { tracing: { traceContextOf } }),
    ...(opts.limits === undefined ? {} : { limits: opts.limits }),
    ...(cluster?.rateLimiter === undefined ? {} : { rateLimiter: cluster.rateLimiter }),
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.ids === undefined ? {} : { ids: opts.ids }),
  });
  factoryRef = factory;
  // A source's tools changed (a server came up, or announced new tools): a new registry, whole.
  const unsubscribe = toolSources?.subscribe(() => {
    try {
      factory.replaceTools([...fixedTools, ...toolSources.tools()]);
    } catch (error) {
      logger.error({ err: error }, 'the tool sources changed but their tools were refused; the registry is unchanged');
    }
  });
  if (executesRuns) await resumeParkedRuns(factory, db, logger);
  const starterDeps = {
    factory,
    db,
    sink,
    metrics,
    logger,
    runTracer,
    config: { ...DEFAULT_STARTS_CONFIG, ...opts.starts },
  };
  const starter = await (cluster?.createStarter?.(starterDeps) ?? createRunStarter(starterDeps));
  const resyncListeners = new Set<() => void>();

  const closing = new AbortController();
  // Every open subscription listens to this one shutdown signal: that is by design, not a leak,
  // so Node's 10-listener warning must not fire (and flood the logs) past ten subscribers.
  setMaxListeners(0, closing.signal);
  const subscriptions = createSubscriptionCounter({ ...DEFAULT_SUBSCRIPTION_CAPS, ...opts.subscriptionCaps });
  let closed = false;
  return {
    factory,
    hub,
    ledger,
    metrics,
    db,
    sink,
    starter,
    auth,
    logger,
    toolSwitches,
    runTracer,
    runsElsewhere: cluster?.createStarter !== undefined,
    config: {
      ...DEFAULT_SERVICES_CONFIG,
      ...(cluster?.feedFromDatabase === undefined ? {} : { feedFromDatabase: cluster.feedFromDatabase }),
      ...opts.config,
    },
    signal: closing.signal,
    toolSources,
    subscriptions: () => subscriptions.counts(),
    trackSubscription: (kind, owner) => subscriptions.track(kind, owner),
    async drain({ graceMs }) {
      await factory.drain({ graceMs });
      await sink.flush();
      // No run is left to call them.
      unsubscribe?.();
      await toolSources?.close();
    },
    async close() {
      if (closed) return;
      closed = true;
      starter.close();
      closing.abort(new Error('the server is shutting down'));
      unsubscribe?.();
      void toolSources?.close();
      await db.close();
    },
    cancelRun: (runId, reason) =>
      cluster?.cancelRun?.(runId, reason) ?? Promise.resolve(factory.cancelRun(runId, reason)),
    resync() {
      for (const listener of resyncListeners) listener();
    },
    onResync(listener) {
      resyncListeners.add(listener);
      return () => resyncListeners.delete(listener);
    },
    async decideApproval(decision) {
      const elsewhere = cluster?.decideApproval;
      try {
        await factory.approvals.decide(decision);
      } catch (error) {
        if (elsewhere === undefined || !isDispatchError(error, 'APPROVAL_NOT_FOUND')) throw error;
        await elsewhere(decision);
      }
    },
  };
}
