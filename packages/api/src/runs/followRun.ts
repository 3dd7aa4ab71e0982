import type { AgentCompletedEvent, RunEvent, ToolResult } from '@toolrun/dispatcher';
import { DispatchError } from '@toolrun/dispatcher';
import type { Principal } from '../auth/createAuth.ts';
import type { ToolrunServices } from '../services.ts';
import { streamRunEvents } from '../streams/streamRunEvents.ts';

/** Options of {@link followRun}. */
export interface FollowRunOptions {
  /** Told of each event as it is committed, in seq order (e.g. progress for an MCP client). */
  readonly onEvents?: (events: readonly RunEvent[]) => void | Promise<void>;
}

/**
 * Follows one run of `principal` from its first event to its `agent_completed`, from what is committed
 * (the database, then the live hub, as a subscriber of the owner: `runs.events`' stream), and resolves
 * with every event. For a caller that waits for a run another process executes (cluster mode: a worker).
 * Rejects with `SHUTTING_DOWN` when the services close first.
 */
export async function followRun(
  services: ToolrunServices,
  principal: Principal,
  runId: string,
  opts: FollowRunOptions = {},
): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const [, batch] of streamRunEvents({ services, principal, runId, afterSeq: 0 })) {
    events.push(...batch);
    await opts.onEvents?.(batch);
    if (batch.at(-1)?.type === 'agent_completed') return events;
  }
  throw new DispatchError('SHUTTING_DOWN', `the server is shutting down before run ${runId} ended`);
}

/** The end of a followed run. */
export function completionOf(events: readonly RunEvent[]): AgentCompletedEvent {
  const last = events.at(-1);
  if (last?.type !== 'agent_completed') throw new Error('a followed run ends with agent_completed');
  return last;
}

/**
 * The result of a one-call run from its events: its `tool_completed`, or, for a run that ended before
 * its call did (cancelled while queued, its worker lost), the run's end as the call's.
 */
export function toolResultOf(events: readonly RunEvent[]): ToolResult {
  const completed = events.find((event) => event.type === 'tool_completed');
  if (completed?.type === 'tool_completed') {
    const { callId, durationMs } = completed;
    return completed.status === 'success'
      ? { callId, status: 'success', output: completed.output ?? null, durationMs }
      : {
          callId,
          status: completed.status,
          error: completed.error ?? { code: 'TOOL_FAILED', message: completed.status },
          durationMs,
        };
  }
  const end = completionOf(events);
  return {
    callId: '',
    status: end.status === 'cancelled' ? 'cancelled' : 'error',
    error: end.error ?? { code: 'AGENT_FAILED', message: `the run ended ${end.status} before its call` },
    durationMs: 0,
  };
}
