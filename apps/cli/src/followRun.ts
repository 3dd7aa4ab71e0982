import type { RunEvent } from '@toolrun/api';
import { CliError } from './CliError.ts';
import type { CliClient } from './createCliClient.ts';
import { EXIT } from './exitCodes.ts';

type AgentCompleted = Extract<RunEvent, { type: 'agent_completed' }>;

/** How a followed stream ended. */
export interface FollowResult {
  /** The run's `agent_completed`, or undefined when the stream was stopped first (detached) or had nothing left. */
  completed: AgentCompleted | undefined;
  /** The id of the last event received (or the one we started after): where to resume. */
  lastEventId: string | undefined;
}

/** The seq of an event id `<runId>:<seq>`, 0 when there is none. */
export function seqOf(eventId: string | undefined): number {
  if (eventId === undefined) return 0;
  const seq = Number(eventId.slice(eventId.lastIndexOf(':') + 1));
  return Number.isInteger(seq) && seq > 0 ? seq : 0;
}

/**
 * Follows a run's events (`runs.events`) from after `lastEventId` (or from the start) until its
 * `agent_completed`, handing each new event to `onEvent` exactly once, in order. A dropped connection
 * is resumed by the client from the last tracked event id (also across a server restart); events the
 * client already has are dropped by `seq`, and a gap is an error, so the output never repeats or
 * skips an event. Aborting `signal` stops following (the run goes on).
 */
export function followRun(opts: {
  client: CliClient;
  runId: string;
  lastEventId?: string | undefined;
  signal: AbortSignal;
  onEvent: (event: RunEvent) => void;
  /** The connection is being re-established (`true`) or is back (`false`). */
  onReconnecting?: (reconnecting: boolean, error?: Error) => void;
}): Promise<FollowResult> {
  let lastSeq = seqOf(opts.lastEventId);
  let lastEventId = opts.lastEventId;
  let completed: AgentCompleted | undefined;
  return new Promise<FollowResult>((resolve, reject) => {
    if (opts.signal.aborted) {
      resolve({ completed, lastEventId });
      return;
    }
    let settled = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener('abort', stop);
      subscription.unsubscribe();
      if (error === undefined) resolve({ completed, lastEventId });
      else reject(error);
    };
    const stop = () => finish();
    const subscription = opts.client.runs.events.subscribe(
      { runId: opts.runId, ...(opts.lastEventId === undefined ? {} : { lastEventId: opts.lastEventId }) },
      {
        onData: ({ data: events }) => {
          if (settled) return;
          for (const event of events) {
            if (event.seq <= lastSeq) continue;
            if (event.seq !== lastSeq + 1) {
              finish(
                new CliError(
                  `events ${lastSeq + 1}–${event.seq - 1} of run ${opts.runId} never arrived; follow it again with --from ${lastEventId ?? ''}`,
                  EXIT.error,
                  'GAP',
                ),
              );
              return;
            }
            lastSeq = event.seq;
            lastEventId = event.id;
            if (event.type === 'agent_completed') completed = event;
            opts.onEvent(event);
          }
        },
        onConnectionStateChange: (state) => {
          if (state.state === 'connecting' && state.error !== null) opts.onReconnecting?.(true, state.error);
          else if (state.state === 'pending') opts.onReconnecting?.(false);
        },
        onError: (error) => finish(error),
        onComplete: () => finish(),
      },
    );
    opts.signal.addEventListener('abort', stop, { once: true });
  });
}
