import { setMaxListeners } from 'node:events';
import { createBuiltinTools, createDemoAgents, createOpenAIAgent } from '@toolrun/agents';
import type { PersistentSink, ToolrunDatabase } from '@toolrun/db';
import { openStorage } from '@toolrun/db';
import type {
  AnyAgent,
  AnyTool,
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
} from '@toolrun/dispatcher';
import type { Auth, AuthOptions } from './auth/createAuth.ts';
import { createAuth } from './auth/createAuth.ts';
import type { Logger } from './logger.ts';
import { silentLogger } from './logger.ts';
import { teeMetrics } from './teeMetrics.ts';

/** Settings the procedures read. */
export interface ServicesConfig {
  /** Error responses carry stack traces (development only). */
  readonly exposeStackTraces: boolean;
  /** Largest `runs.start` input, as JSON text in bytes (UTF-8). */
  readonly maxRunInputBytes: number;
  /** Most events in one subscription message while replaying history. */
  readonly replayPageSize: number;
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
  /** More metrics ports fed alongside the in-memory one (the server's Prometheus histograms). */
  metricsPorts?: readonly DispatcherMetrics[];
  logger?: Logger;
  config?: Partial<ServicesConfig>;
  clock?: Clock;
  ids?: IdSource;
  /** Queue bound of one hub subscriber before it is cut off (`SLOW_CONSUMER`); hub default when absent. */
  maxQueuedEvents?: number;
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
  readonly auth: Auth;
  readonly logger: Logger;
  readonly config: ServicesConfig;
  /** Aborted when the services close: open subscriptions end. */
  readonly signal: AbortSignal;
  /** Counts the subscriptions a transport is serving; see {@link ToolrunServices.trackSubscription}. */
  subscriptions(): { runs: number; feeds: number };
  /** Called by the subscription procedures; the returned function ends the tracking. */
  trackSubscription(kind: 'runs' | 'feeds'): () => void;
  /**
   * Graceful stop: refuses new runs (`SHUTTING_DOWN`), lets active runs finish within `graceMs`, cancels
   * the rest (each still ends with its `agent_completed`), and commits every event.
   */
  drain(opts: { graceMs: number }): Promise<void>;
  /** Ends open subscriptions and closes the database (the file, or the pool). Call after {@link ToolrunServices.drain}. */
  close(): Promise<void>;
}

export const DEFAULT_SERVICES_CONFIG: ServicesConfig = {
  exposeStackTraces: false,
  maxRunInputBytes: 65_536,
  replayPageSize: 500,
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
  const db =
    typeof opts.database === 'string'
      ? await openStorage({
          location: opts.database,
          ...(opts.databaseWriter === undefined ? {} : { writer: opts.databaseWriter }),
        })
      : opts.database;
  if (db.recovered.length > 0) {
    // `recovered` holds the events written to close them: one agent_completed per run.
    const runs = db.recovered.filter((event) => event.type === 'agent_completed').length;
    logger.warn({ runs, events: db.recovered.length }, 'closed runs left running by an earlier crash as interrupted');
  }
  const inMemory = createInMemoryMetrics();
  const metrics = { ...teeMetrics([inMemory, ...(opts.metricsPorts ?? [])]), snapshot: () => inMemory.snapshot() };
  const ledger = createDeliveryLedger({ metrics });
  const hub = createEventHub({
    ledger,
    metrics,
    ...(opts.maxQueuedEvents === undefined ? {} : { maxQueuedEvents: opts.maxQueuedEvents }),
  });
  const sink = db.createPersistentSink({ onCommitted: (events) => hub.publish(events) });

  // The admin tools reach the factory they belong to, which exists only once they do.
  let factoryRef: DispatcherFactory | undefined;
  const tools = createBuiltinTools({
    scratchpad: db.scratchpad,
    history: { prune: (o) => db.prune(o) },
    runControl: {
      activeRuns: () =>
        (factoryRef?.activeRuns() ?? []).map((r) => ({
          runId: r.runId,
          userId: r.userId,
          agent: r.agent,
          startedAt: r.startedAt,
        })),
      cancelRun: (runId, reason) => factoryRef?.cancelRun(runId, reason) ?? false,
    },
  });
  const agents: AnyAgent[] = [...createDemoAgents()];
  if (opts.openai !== undefined) agents.push(createOpenAIAgent(opts.openai));
  const factory = createDispatcherFactory({
    tools: [...tools, ...(opts.extraTools ?? [])],
    agents: [...agents, ...(opts.extraAgents ?? [])],
    sink,
    metrics,
    ...(opts.limits === undefined ? {} : { limits: opts.limits }),
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.ids === undefined ? {} : { ids: opts.ids }),
  });
  factoryRef = factory;

  const closing = new AbortController();
  // Every open subscription listens to this one shutdown signal: that is by design, not a leak,
  // so Node's 10-listener warning must not fire (and flood the logs) past ten subscribers.
  setMaxListeners(0, closing.signal);
  const counts = { runs: 0, feeds: 0 };
  let closed = false;
  return {
    factory,
    hub,
    ledger,
    metrics,
    db,
    sink,
    auth,
    logger,
    config: { ...DEFAULT_SERVICES_CONFIG, ...opts.config },
    signal: closing.signal,
    subscriptions: () => ({ ...counts }),
    trackSubscription(kind) {
      counts[kind] += 1;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        counts[kind] -= 1;
      };
    },
    async drain({ graceMs }) {
      await factory.drain({ graceMs });
      await sink.flush();
    },
    async close() {
      if (closed) return;
      closed = true;
      closing.abort(new Error('the server is shutting down'));
      await db.close();
    },
  };
}
