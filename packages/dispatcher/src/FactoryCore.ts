import { ActiveRun, type RunHost } from './ActiveRun.ts';
import type { AgentRegistry } from './agentRegistry.ts';
import { bindContext, isAdmin, isUserExecutionContext, type UserExecutionContext } from './context.ts';
import { DispatchError } from './errors.ts';
import { CircuitBreaker } from './limits/CircuitBreaker.ts';
import type { DispatcherLimits } from './limits/limits.ts';
import { RunDeadlines } from './limits/RunDeadlines.ts';
import { TokenBucket } from './limits/TokenBucket.ts';
import type { CallTracing, Clock, DispatcherMetrics, EventSink, IdSource, RateLimiter, ToolSwitch } from './ports.ts';
import { type BookedScope, ScopeLeakWatch } from './ScopeLeakWatch.ts';
import type { InternalToolRegistry } from './toolRegistry.ts';

// Idle users are forgotten by a sweep when the user map grows past this (and twice its size after
// the last sweep), not on every release.
const SWEEP_ABOVE = 1_024;

/** Counters behind `factory.stats()` and the isolation audit. Plain JSON. */
export interface FactoryStats {
  liveScopes: number;
  peakScopes: number;
  scopesOpened: number;
  /** Scopes garbage-collected without being disposed. */
  leakedScopes: number;
  /** Attempts to bind a context (or its run) to a second scope; each was refused. */
  sharedContexts: number;
  /** Events refused by a run's state machine. */
  contractViolations: number;
  activeRuns: number;
  /** Calls through the deprecated entry points of `@toolrun/dispatcher/compat`. */
  legacyCalls: number;
}

interface UserState {
  scopes: number;
  runs: number;
  bucket: TokenBucket | undefined;
}

/** Everything a factory's scopes share: registries, ports, limits and per-user bookkeeping. Internal. */
export class FactoryCore implements RunHost {
  readonly runs = new Map<string, ActiveRun>();
  /** Runs whose `done` has not resolved yet (closed runs stay here until the sink took their last event). */
  readonly unsettled = new Set<ActiveRun>();
  /** Every run deadline of this factory, behind one timer. */
  readonly deadlines = new RunDeadlines();
  shuttingDown = false;
  readonly #users = new Map<string, UserState>();
  #sweepAbove = SWEEP_ABOVE;
  readonly #boundRuns = new Set<string>();
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #leaks = new ScopeLeakWatch((context) => this.#collected(context));
  readonly #stats: FactoryStats = {
    liveScopes: 0,
    peakScopes: 0,
    scopesOpened: 0,
    leakedScopes: 0,
    sharedContexts: 0,
    contractViolations: 0,
    activeRuns: 0,
    legacyCalls: 0,
  };

  constructor(
    /** Replaced whole by `factory.replaceTools`, never changed in place: a lookup sees one snapshot. */
    public tools: InternalToolRegistry,
    readonly agents: AgentRegistry,
    readonly sink: EventSink,
    readonly limits: DispatcherLimits,
    readonly metrics: DispatcherMetrics,
    readonly clock: Clock,
    readonly ids: IdSource,
    readonly toolSwitch: ToolSwitch | undefined = undefined,
    readonly tracing: CallTracing | undefined = undefined,
    /** Absent: each user's bucket is kept here, in {@link UserState} (the default, one process). */
    readonly rateLimiter: RateLimiter | undefined = undefined,
  ) {}

  stats(): FactoryStats {
    return { ...this.#stats, activeRuns: this.runs.size };
  }

  /** Counts a call through a deprecated entry point. */
  legacyCall(entryPoint: string): void {
    this.#stats.legacyCalls += 1;
    this.metrics.legacyCall(entryPoint);
  }

  liveScopes(userId?: string): number {
    return userId === undefined ? this.#stats.liveScopes : (this.#users.get(userId)?.scopes ?? 0);
  }

  refuseWhenShuttingDown(): void {
    if (this.shuttingDown) throw new DispatchError('SHUTTING_DOWN', 'the dispatcher is shutting down');
  }

  /** Checks that `context` may get a scope and books it; throws before anything else happens. */
  claimScope(context: UserExecutionContext): void {
    this.refuseWhenShuttingDown();
    if (!isUserExecutionContext(context)) {
      throw new DispatchError('INVALID_CONTEXT', 'the context was not created by createUserExecutionContext');
    }
    if (this.#boundRuns.has(context.runId)) this.#refuseShared(`run ${context.runId} already has a live scope`);
    const user = this.#user(context.userId);
    if (user.scopes >= this.limits.maxScopesPerUser) {
      this.metrics.limitHit('SCOPE_LIMIT');
      throw new DispatchError(
        'SCOPE_LIMIT',
        `user ${context.userId} already holds ${user.scopes} live scopes (limit ${this.limits.maxScopesPerUser}); dispose one first`,
      );
    }
    // Last check, as it marks the context: a context refused for another reason stays usable.
    if (!bindContext(context)) this.#refuseShared(`context ${context.requestId} was already given to a scope`);
    user.scopes += 1;
    this.#boundRuns.add(context.runId);
    const stats = this.#stats;
    stats.liveScopes += 1;
    stats.scopesOpened += 1;
    if (stats.liveScopes > stats.peakScopes) stats.peakScopes = stats.liveScopes;
    this.metrics.scopeOpened();
  }

  #refuseShared(what: string): never {
    this.#stats.sharedContexts += 1;
    this.metrics.isolationViolation('shared_context');
    throw new DispatchError('CONTEXT_IN_USE', `${what}; create a new context per request`);
  }

  /** Watches `scope` so that one dropped without being disposed is counted as leaked and released. */
  watch(scope: BookedScope): void {
    this.#leaks.watch(scope);
  }

  /** Gives a scope's slot back; a no-op when it already was. */
  releaseScope(scope: BookedScope): void {
    if (this.#leaks.release(scope)) this.#release(scope.context);
  }

  #release(context: UserExecutionContext): void {
    this.#boundRuns.delete(context.runId);
    this.#stats.liveScopes -= 1;
    const user = this.#users.get(context.userId);
    // Idle users stay until a sweep: the next scope of the same user reuses their state.
    if (user) user.scopes -= 1;
    // Last: a throwing metrics port cannot leave the books half-kept.
    this.metrics.scopeClosed();
  }

  /**
   * Books one of the user's concurrent agent runs; throws `CONCURRENT_RUN_LIMIT` when none is free.
   * `force`: a run resumed after a restart was admitted once already and is booked whatever the count.
   */
  reserveRun(context: UserExecutionContext, force = false): void {
    const user = this.#user(context.userId);
    if (!force && user.runs >= this.limits.maxConcurrentRunsPerUser) {
      this.metrics.limitHit('CONCURRENT_RUN_LIMIT');
      throw new DispatchError(
        'CONCURRENT_RUN_LIMIT',
        `user ${context.userId} already has ${user.runs} active runs (limit ${this.limits.maxConcurrentRunsPerUser})`,
      );
    }
    user.runs += 1;
  }

  /** Takes one token from the user's bucket: 0 when allowed, otherwise the milliseconds to wait. */
  takeToken(context: UserExecutionContext, now: number = this.clock.monotonic()): number {
    const limits = this.limits.rateLimit[isAdmin(context) ? 'admin' : 'user'];
    if (limits.capacity === Number.POSITIVE_INFINITY) return 0;
    let wait: number;
    if (this.rateLimiter === undefined) {
      const user = this.#user(context.userId);
      user.bucket ??= new TokenBucket(limits, now);
      wait = user.bucket.take(now);
    } else {
      wait = this.rateLimiter.take(context.userId, limits, now);
    }
    if (wait > 0) this.metrics.limitHit('RATE_LIMITED');
    return wait;
  }

  breaker(tool: string): CircuitBreaker {
    let breaker = this.#breakers.get(tool);
    if (!breaker) {
      breaker = new CircuitBreaker(this.limits.circuitBreaker);
      this.#breakers.set(tool, breaker);
    }
    return breaker;
  }

  /** Creates and registers a run; an agent run must have been reserved with {@link reserveRun}. */
  createRun(context: UserExecutionContext, agent: string, mode: 'agent' | 'direct'): ActiveRun {
    const run = new ActiveRun(this, context, agent, mode);
    this.runs.set(run.runId, run);
    this.unsettled.add(run);
    return run;
  }

  /** For runs: an event was refused. */
  runViolated(): void {
    this.#stats.contractViolations += 1;
  }

  /** For runs: `agent_completed` was emitted. An agent run's slot (booked by `prepareAgentRun`) is given back. */
  runClosed(run: ActiveRun): void {
    this.runs.delete(run.runId);
    if (run.mode === 'agent') this.releaseRun(run.userId);
  }

  /** For runs: the sink took `agent_completed`. A scope the run owns is released before `done` resolves. */
  runSettled(run: ActiveRun): void {
    this.unsettled.delete(run);
    try {
      if (run.ownedScope) this.releaseScope(run.ownedScope);
    } catch {
      // Only a throwing metrics port gets here, after the books were kept; `done` never rejects.
    }
  }

  /** Gives back a run booked with {@link reserveRun}. */
  releaseRun(userId: string): void {
    const user = this.#users.get(userId);
    if (user) user.runs -= 1;
  }

  #user(userId: string): UserState {
    let user = this.#users.get(userId);
    if (!user) {
      if (this.#users.size >= this.#sweepAbove) this.#sweep();
      user = { scopes: 0, runs: 0, bucket: undefined };
      this.#users.set(userId, user);
    }
    return user;
  }

  // A user with nothing live and a full bucket is indistinguishable from a new one: forget them.
  // The next sweep waits until the map has doubled, so sweeping costs O(1) per new user.
  #sweep(): void {
    const now = this.clock.monotonic();
    for (const [userId, user] of this.#users) {
      if (user.scopes === 0 && user.runs === 0 && (!user.bucket || user.bucket.isFull(now))) {
        this.#users.delete(userId);
      }
    }
    this.#sweepAbove = Math.max(SWEEP_ABOVE, this.#users.size * 2);
  }

  #collected(context: UserExecutionContext): void {
    this.#stats.leakedScopes += 1;
    this.metrics.isolationViolation('leaked_scope');
    this.runs
      .get(context.runId)
      ?.abort(new DispatchError('SCOPE_DISPOSED', 'the scope was garbage-collected without being disposed'));
    this.#release(context);
  }
}
