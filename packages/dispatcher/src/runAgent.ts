import { z } from 'zod';
import { type ActiveRun, abortReason, outcomeOf, type RunOutcome } from './ActiveRun.ts';
import { isAdmin, type UserExecutionContext } from './context.ts';
import type { AgentContext, AnyAgent, ToolResult } from './defineAgent.ts';
import { dispatchTool } from './dispatchTool.ts';
import { DispatchError, toDispatchError } from './errors.ts';
import type { AgentCompletedEvent } from './events.ts';
import type { FactoryCore } from './FactoryCore.ts';
import { formatIssues } from './formatIssues.ts';
import { jsonLength } from './jsonLength.ts';
import type { RedactionOptions } from './limits/limits.ts';
import { redactWith } from './redact.ts';
import { isScope, type RequestScopedToolDispatcher, SCOPE_INTERNALS } from './scopedDispatcher.ts';
import { NAME_PATTERN } from './validateDefinition.ts';

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
  if (
    typeof agent !== 'object' ||
    agent === null ||
    typeof agent.name !== 'string' ||
    !NAME_PATTERN.test(agent.name) ||
    !(agent.input instanceof z.ZodType) ||
    typeof agent.run !== 'function'
  ) {
    throw new DispatchError('INVALID_REGISTRY', 'not an agent definition (see defineAgent)');
  }
  if (agent.access === 'admin' && !isAdmin(context)) {
    throw new DispatchError('ACCESS_DENIED', `agent "${agent.name}" requires the admin role`);
  }
  const max = core.limits.maxInputChars;
  if (max !== Number.POSITIVE_INFINITY && jsonLength(input, max) > max) {
    core.metrics.limitHit('INPUT_TOO_LARGE');
    throw new DispatchError('INPUT_TOO_LARGE', `input is over ${max} characters as JSON`);
  }
  let parsed: ReturnType<typeof agent.input.safeParse>;
  try {
    parsed = agent.input.safeParse(input);
  } catch (error) {
    throw new DispatchError('INVALID_INPUT', `invalid input: ${toDispatchError(error, 'INVALID_INPUT').message}`);
  }
  if (!parsed.success) {
    throw new DispatchError('INVALID_INPUT', `invalid input: ${formatIssues(parsed.error.issues)}`, {
      details: parsed.error.issues,
    });
  }
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
    data: parsed.data,
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

/** Starts a prepared run in a scope that has none. Internal. */
export function launchAgentRun(
  scope: RequestScopedToolDispatcher,
  prepared: PreparedRun,
  signal: AbortSignal | undefined,
): ActiveRun {
  if (!isScope(scope)) throw new DispatchError('INVALID_SCOPE', 'runAgent needs a scope from factory.forRequest');
  const internals = scope[SCOPE_INTERNALS];
  const { core } = internals;
  const { context } = scope;
  const { agent } = prepared;
  const run = core.createRun(context, agent.name, 'agent');
  internals.attachRun(run);
  run.start(redactWith(prepared.input, core.limits.redaction));
  // Only a run started with a signal pays for a listener on it.
  const onAbort =
    signal === undefined
      ? undefined
      : (): void => {
          run.abort(new DispatchError('CANCELLED', abortReason(signal).message));
        };
  if (signal && onAbort) signal.addEventListener('abort', onAbort, { once: true });
  const ctx: AgentContext = new RunAgentContext(run, core, context);
  const driver = new AgentDriver(run, agent, prepared.data, ctx, core.limits.redaction, signal, onAbort);
  run.driver = driver;
  // The agent starts in a microtask, as it always has: runAgent returns before any agent code runs.
  queueMicrotask(() => driver.begin());
  return run;
}

/**
 * What an agent's `run` receives. A class frozen in its constructor rather than a frozen literal
 * with a getter (which V8 keeps as a dictionary): far less memory per live run. `think` and
 * `callTool` stay own function properties, so an agent may destructure them.
 */
class RunAgentContext implements AgentContext {
  readonly context: UserExecutionContext;
  readonly think: (text: string) => void;
  readonly callTool: (name: string, input: unknown) => Promise<ToolResult>;
  readonly #run: ActiveRun;

  constructor(run: ActiveRun, core: FactoryCore, context: UserExecutionContext) {
    this.context = context;
    this.#run = run;
    // An agent that ignored its signal may go on after its run ended: its late thoughts and calls
    // are dropped here, quietly (no event can follow agent_completed, and it is not the dispatcher's fault).
    this.think = (text: string) => {
      if (!run.closed) run.think(String(text));
    };
    this.callTool = (name: string, toolInput: unknown) =>
      run.closed
        ? Promise.resolve(lateCall(core.ids.callId()))
        : dispatchTool(core, run, context, name, toolInput, undefined);
    Object.freeze(this);
  }

  get signal(): AbortSignal {
    return this.#run.signal;
  }
}

const LATE = Object.freeze({ code: 'RUN_FINISHED', message: 'the run has ended; the call was not made' });

function lateCall(callId: string): ToolResult {
  return { callId, status: 'cancelled', error: LATE, durationMs: 0 };
}

/**
 * Runs the agent and closes its run exactly once: with its result, with its failure, or, as soon
 * as the run is aborted, with the abort's outcome (an agent that ignores its signal cannot hold
 * the run open). A class, not an async function and a promise race: a run allocates one driver,
 * and a synchronous agent settles without a promise.
 */
class AgentDriver {
  #finished = false;

  constructor(
    readonly run: ActiveRun,
    readonly agent: AnyAgent,
    readonly data: unknown,
    readonly ctx: AgentContext,
    readonly redaction: RedactionOptions,
    readonly signal: AbortSignal | undefined,
    readonly onSignalAbort: (() => void) | undefined,
  ) {}

  begin(): void {
    if (this.#finished) return;
    let value: unknown;
    try {
      value = this.agent.run(this.data, this.ctx);
    } catch (error) {
      this.#failed(error);
      return;
    }
    if (isThenable(value)) {
      value.then(
        (result) => this.#succeeded(result),
        (error: unknown) => this.#failed(error),
      );
    } else {
      this.#succeeded(value);
    }
  }

  /** The run was aborted: it ends now (in a microtask), whatever the agent does. */
  aborted(): void {
    queueMicrotask(() => this.#finish(undefined));
  }

  #succeeded(value: unknown): void {
    if (this.#finished) return;
    // Aborted first: the abort decides the outcome, not a result that came later.
    if (this.run.abortedBy) {
      this.#finish(undefined);
      return;
    }
    let outcome: RunOutcome;
    try {
      outcome = { status: 'completed', result: redactWith(value, this.redaction) };
    } catch (error) {
      this.#failed(error);
      return;
    }
    this.#finish(outcome);
  }

  #failed(error: unknown): void {
    if (this.#finished) return;
    if (this.run.abortedBy) {
      this.#finish(undefined);
      return;
    }
    const failure = toDispatchError(error, 'AGENT_FAILED');
    const message = redactWith(failure.message, this.redaction) as string;
    this.#finish({ status: 'failed', error: { code: failure.code, message } });
  }

  // `undefined`: the outcome of the run's abort.
  #finish(outcome: RunOutcome | undefined): void {
    if (this.#finished) return;
    const aborted = this.run.abortedBy;
    if (outcome === undefined && !aborted) return;
    this.#finished = true;
    this.run.driver = undefined;
    this.run.close(outcome ?? outcomeOf(aborted as DispatchError));
    if (this.signal && this.onSignalAbort) this.signal.removeEventListener('abort', this.onSignalAbort);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
