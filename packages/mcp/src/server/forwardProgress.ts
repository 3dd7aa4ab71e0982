import type { Principal, ToolrunServices } from '@toolrun/api';
import type { RunEvent } from '@toolrun/dispatcher';

/** Where progress goes: the client's progress token and the request's notification sender. */
export interface ProgressTarget {
  readonly token: string | number;
  send(notification: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; message: string };
  }): Promise<void>;
}

/**
 * Sends each `agent_thinking` of the run `runId` to the client as `notifications/progress` (the step
 * as `progress`, the text as `message`), read from the event hub like any subscriber of the run's
 * owner: committed events only, redacted, recorded in the delivery ledger. Subscribe before the run's
 * first event can be committed. The returned promise settles after the run's `agent_completed` went
 * by (so every notification is sent before the call's result), or once `stop()` is called.
 */
export function forwardProgress(
  services: ToolrunServices,
  principal: Principal,
  runId: string,
  target: ProgressTarget,
): { finished: Promise<void>; stop: () => void } {
  const subscription = services.hub.subscribe({ principal, runId });
  const send = progressOf(target);
  const finished = (async () => {
    try {
      for await (const batch of subscription) {
        await send(batch);
        if (batch.some((event) => event.type === 'agent_completed')) return;
      }
    } catch {
      // A dropped client or a slow consumer ends the progress, never the call.
    } finally {
      subscription.close();
    }
  })();
  return { finished, stop: () => subscription.close() };
}

/**
 * Sends each `agent_thinking` of `events` to the client as `notifications/progress` (the step as
 * `progress`, the text as `message`), in order; for a caller that reads the run's events itself.
 */
export function progressOf(target: ProgressTarget): (events: readonly RunEvent[]) => Promise<void> {
  return async (events) => {
    for (const event of events) {
      if (event.type !== 'agent_thinking') continue;
      await target.send({
        method: 'notifications/progress',
        params: { progressToken: target.token, progress: event.step, message: event.text },
      });
    }
  };
}
