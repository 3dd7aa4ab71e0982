import { type ActiveRun, DIRECT_RUN_AGENT } from './ActiveRun.ts';
import type { UserExecutionContext } from './context.ts';
import type { ToolResult } from './defineAgent.ts';
import { dispatchTool } from './dispatchTool.ts';
import { DispatchError } from './errors.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { BookedScope } from './ScopeLeakWatch.ts';

/** Where a scope is in its life. */
export type ScopeState = 'idle' | 'running' | 'finished' | 'disposed';

/**
 * The dispatcher of ONE request: its frozen context, its run, its events. Only
 * `factory.forRequest(context)` creates one; the class itself is not exported and refuses `new`.
 * Dispose it when the request ends (`await using`): an active run is cancelled and its closing
 * events reach the sink before disposal resolves. After that every call rejects with `SCOPE_DISPOSED`.
 *
 * A scope holds at most one run, the context's `runId`: `runAgent` starts an agent run, and a tool
 * executed with no agent running opens a direct run (agent `"(direct)"`) that ends when the scope is disposed.
 */
export interface RequestScopedToolDispatcher extends AsyncDisposable {
  readonly context: UserExecutionContext;
  readonly state: ScopeState;
  /**
   * Runs one tool through every guard. Always emits `tool_executing` then `tool_completed`, and
   * resolves with the outcome (never rejects for a tool's failure). Rejects with `SCOPE_DISPOSED`
   * after disposal, `RUN_FINISHED` after the scope's run ended, `SHUTTING_DOWN` during a drain.
   */
  execute(tool: string, input: unknown, opts?: { signal?: AbortSignal }): Promise<ToolResult>;
}

const RESOLVED: Promise<void> = Promise.resolve();

// Only this module holds it, so only this module can construct a scope.
const CONSTRUCT = Symbol('construct');

/** Internal accessors for the runner; not reachable through the public interface. */
export const SCOPE_INTERNALS = Symbol('scopeInternals');

/** What the runner needs from a scope. */
export interface ScopeInternals {
  readonly core: FactoryCore;
  readonly run: ActiveRun | undefined;
  /** Throws unless the scope can take a new run. */
  assertCanStartRun(): void;
  attachRun(run: ActiveRun): void;
  /** Makes `run` (the scope's) release the scope when it settles, as `factory.startRun` does. */
  ownedBy(run: ActiveRun): void;
}

// The factory's booking of the scope lives in its base class (see FactoryCore).
class ScopedDispatcher extends BookedScope implements RequestScopedToolDispatcher {
  readonly #core: FactoryCore;
  #run: ActiveRun | undefined;
  #disposal: Promise<void> | undefined;

  constructor(key: symbol, core: FactoryCore, context: UserExecutionContext) {
    if (key !== CONSTRUCT) {
      throw new TypeError('a RequestScopedToolDispatcher is created only by factory.forRequest(context)');
    }
    super(context);
    this.#core = core;
  }

  get state(): ScopeState {
    if (this.#disposal) return 'disposed';
    if (!this.#run) return 'idle';
    return this.#run.closed ? 'finished' : 'running';
  }

  execute(tool: string, input: unknown, opts: { signal?: AbortSignal } = {}): Promise<ToolResult> {
    let run = this.#run;
    try {
      if (this.#disposal) throw new DispatchError('SCOPE_DISPOSED', 'this scope has been disposed');
      if (run?.closed) throw new DispatchError('RUN_FINISHED', `run ${this.context.runId} has ended`);
      if (!run) {
        this.#core.refuseWhenShuttingDown();
        run = this.#core.createRun(this.context, DIRECT_RUN_AGENT, 'direct');
        this.#run = run;
        run.start(null);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return dispatchTool(this.#core, run, this.context, tool, input, opts.signal);
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#disposal ??= this.#dispose();
    return this.#disposal;
  }

  // Not async: a scope without a run is released at once and pays for no generator.
  #dispose(): Promise<void> {
    const run = this.#run;
    if (!run) {
      try {
        this.#core.releaseScope(this);
      } catch (error) {
        // A throwing metrics port rejects the disposal, as it did when this was async.
        return Promise.reject(error);
      }
      return RESOLVED;
    }
    if (!run.closed) {
      if (run.mode === 'direct' && run.inFlight === 0) {
        run.close({ status: 'completed', result: null });
      } else {
        run.abort(new DispatchError('SCOPE_DISPOSED', 'the scope was disposed while its run was active'));
      }
    }
    // `done` never rejects; the scope is released once the sink took the run's last event.
    return run.done.then(() => this.#core.releaseScope(this));
  }

  get [SCOPE_INTERNALS](): ScopeInternals {
    const scope = this;
    return {
      core: this.#core,
      run: this.#run,
      assertCanStartRun() {
        if (scope.#disposal) throw new DispatchError('SCOPE_DISPOSED', 'this scope has been disposed');
        if (scope.#run) {
          throw new DispatchError('RUN_ALREADY_STARTED', `scope for run ${scope.context.runId} already has a run`);
        }
        scope.#core.refuseWhenShuttingDown();
      },
      attachRun(run) {
        scope.#run = run;
      },
      ownedBy(run) {
        run.ownedScope = scope;
      },
    };
  }
}

/** Whether `value` is a scope made by a factory (and not a look-alike). */
export function isScope(value: unknown): value is RequestScopedToolDispatcher & { [SCOPE_INTERNALS]: ScopeInternals } {
  return value instanceof ScopedDispatcher;
}

/**
 * Claims `context` and creates its scope. Internal: the factory's only way in. `watch: false` is for
 * a scope its run owns (`factory.startRun`): no caller holds it, so it cannot be dropped undisposed;
 * the run releases it when it settles (and a run always ends, at the latest at its deadline).
 */
export function openScope(core: FactoryCore, context: UserExecutionContext, watch = true): RequestScopedToolDispatcher {
  core.claimScope(context);
  const scope = new ScopedDispatcher(CONSTRUCT, core, context);
  if (watch) core.watch(scope);
  return scope;
}
