import type { JsonValue } from '@toolrun/dispatcher';
import type { Principal } from './auth/createAuth.ts';
import { badInput } from './badInput.ts';
import type { ToolrunServices } from './services.ts';
import type { StartResult } from './starts/createRunStarter.ts';
import type { TraceCarrier } from './tracing.ts';

/** What {@link startRun} starts. */
export interface StartRunRequest {
  agent: string;
  /** The agent's input; `{}` when absent. */
  input?: JsonValue | undefined;
  /** An existing conversation to continue; a new thread when absent. */
  threadId?: string | undefined;
  /** Per user: a repeated start with the same key gets the same run back (exactly-once starts). */
  idempotencyKey?: string | undefined;
  /** At the user's concurrent-run limit: wait in the queue (the default) or refuse (`TOO_MANY_REQUESTS`). */
  onBusy?: 'queue' | 'reject' | undefined;
  /** The W3C trace context of the request that asks: the parent of the run's trace. */
  traceContext?: TraceCarrier | null | undefined;
}

/** A started run: durable (its `agent_started`, or its queue row, committed) before this is returned. */
export type StartedRun = StartResult;

/**
 * Starts `agent` with `input` for `principal`, detached from the caller's connection: the one way
 * every transport (`runs.start`, the AG-UI endpoint) starts a run, through the services' run starter
 * (idempotency keys, the per-user queue). Refusals come before any event: an input over
 * `maxRunInputBytes` (a `BAD_REQUEST` `TRPCError` naming `input`), and the starter's and factory's own
 * (`UNKNOWN_AGENT`, `INVALID_INPUT` with the schema's issues, `INVALID_CONTEXT` for a bad thread id,
 * limits, a reused key) as errors `toTRPCError` maps. Resolves once the run is durable, so a client
 * told of the run can always resume or cancel it.
 */
export function startRun(
  services: ToolrunServices,
  principal: Principal,
  request: StartRunRequest,
): Promise<StartedRun> {
  const runInput = request.input ?? {};
  const bytes = Buffer.byteLength(JSON.stringify(runInput), 'utf8');
  if (bytes > services.config.maxRunInputBytes) {
    badInput(['input'], `must be at most ${services.config.maxRunInputBytes} bytes as JSON, got ${bytes}`);
  }
  return services.starter.start(principal, { ...request, input: runInput });
}
