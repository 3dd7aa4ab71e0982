import { type ActiveRun, abortReason } from './ActiveRun.ts';
import { AgentRun, startAgent } from './AgentRun.ts';
import { checkAgentStart } from './checkAgentStart.ts';
import type { UserExecutionContext } from './context.ts';
import type { AnyAgent } from './defineAgent.ts';
import { DispatchError } from './errors.ts';
import type { AgentCompletedEvent } from './events.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { redactWith } from './redact.ts';
import { isScope, type RequestScopedToolDispatcher, SCOPE_INTERNALS } from './scopedDispatcher.ts';

/**
 * Runs an agent in a scope: emits `agent_started` first, the agent's `agent_thinking` and tool
 * events, and exactly one `agent_completed` last (`completed`, `failed`, `cancelled` or, on shutdown,
 * `interrupted`), after closing every tool call still open. Resolves with that last event once the
 * sink has taken it; it never rejects once `agent_started` was emitted.
 *
 * Rejects BEFORE any event with a {@link DispatchError}: `INVALID_SCOPE`, `SCOPE_DISPOSED`,
 * `RUN_ALREADY_STARTED` (a scope holds one run), `SHUTTING_DOWN`, `INVALID_REGISTRY` (not an agent),
 * `ACCESS_DENIED`, `INPUT_TOO_LARGE`, `INVALID_INPUT` (details: the schema's issues), `CANCELLED`
 * (signal already aborted), `CONCURRENT_RUN_LIMIT`, `RATE_LIMITED` (details: `{ retryAfterMs }`).
 *
 * @example
 * await using scope = factory.forRequest(context);
 * const last = await runAgent(scope, echo, { text: 'hi' }, { signal: AbortSignal.timeout(60_000) });
 */
export function runAgent(
  scope: RequestScopedToolDispatcher,
  agent: AnyAgent,
  input: unknown,
  opts: { signal?: AbortSignal } = {},
): Promise<AgentCompletedEvent> {
  try {
    return startAgentRun(scope, agent, input, opts.signal).done;
  } catch (error) {
    return Promise.reject(error);
  }
}

/** An agent run that passed every check and holds its concurrency slot, ready to start. */
export interface PreparedRun {
  readonly agent: AnyAgent;
  readonly input: unknown;
  readonly data: unknown;
  /** Gives the slot back when the run will not start after all. */
  release(): void;
}

/**
 * Checks that `context` may run `agent` with `input` and books a run slot; throws a
 * {@link DispatchError} and leaves nothing behind otherwise. Internal.
 */
export function prepareAgentRun(
  core: FactoryCore,
  context: UserExecutionContext,
  agent: AnyAgent,
  input: unknown,
  signal: AbortSignal | undefined,
): PreparedRun {
  core.refuseWhenShuttingDown();
  const data = checkAgentStart(core, context, agent, input);
  if (signal?.aborted) throw new DispatchError('CANCELLED', abortReason(signal).message);
  core.reserveRun(context);
  const wait = core.takeToken(context);
  if (wait > 0) {
    core.releaseRun(context.userId);
    throw new DispatchError('RATE_LIMITED', `rate limit reached; retry in ${wait} ms`, {
      details: { retryAfterMs: wait },
    });
  }
  let released = false;
  return {
    agent,
    input,
    data,
    release() {
      if (released) return;
      released = true;
      core.releaseRun(context.userId);
    },
  };
}

/** Validates synchronously, emits `agent_started` and drives the agent detached. Internal. */
export function startAgentRun(
  scope: RequestScopedToolDispatcher,
  agent: AnyAgent,
  input: unknown,
  signal: AbortSignal | undefined,
): ActiveRun {
  if (!isScope(scope)) throw new DispatchError('INVALID_SCOPE', 'runAgent needs a scope from factory.forRequest');
  const internals = scope[SCOPE_INTERNALS];
  internals.assertCanStartRun();
  return launchAgentRun(scope, prepareAgentRun(internals.core, scope.context, agent, input, signal), signal);
}

/**
 * Starts a prepared run in a scope that has none. Internal. With `owned`, the run releases its
 * scope as it settles (`factory.startRun`: nobody else holds the scope).
 */
export function launchAgentRun(
  scope: RequestScopedToolDispatcher,
  prepared: PreparedRun,
  signal: AbortSignal | undefined,
  owned = false,
  queuedMs?: number,
): ActiveRun {
  if (!isScope(scope)) throw new DispatchError('INVALID_SCOPE', 'runAgent needs a scope from factory.forRequest');
  const internals = scope[SCOPE_INTERNALS];
  const { core } = internals;
  const { context } = scope;
  const { agent } = prepared;
  const run = core.createRun(context, agent.name, 'agent');
  internals.attachRun(run);
  if (owned) internals.ownedBy(run);
  run.start(redactWith(prepared.input, core.limits.redaction), queuedMs);
  const driver = new AgentRun(run, core, context, agent, prepared.data, signal, undefined);
  run.driver = driver;
  // Only a run started with a signal pays for a listener on it (the driver itself: no closure).
  signal?.addEventListener('abort', driver, { once: true });
  // The agent starts in a microtask, as it always has: runAgent returns before any agent code runs.
  startAgent(driver);
  return run;
}
