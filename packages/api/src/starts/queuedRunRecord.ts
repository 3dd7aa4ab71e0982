import type { QueuedRunRecord } from '@toolrun/db';
import type { UserExecutionContext } from '@toolrun/dispatcher';

/**
 * The durable row of a run that has not started yet: what a restarted process (single mode) or a
 * worker (cluster mode) needs to start it later under the same run id, and when it stops waiting.
 */
export function queuedRunRecord(opts: {
  context: UserExecutionContext;
  agent: string;
  input: unknown;
  enqueuedAt: number;
  maxQueueWaitMs: number;
}): QueuedRunRecord {
  const { context, enqueuedAt } = opts;
  return {
    runId: context.runId,
    userId: context.userId,
    threadId: context.threadId,
    roles: JSON.stringify(context.roles),
    agent: opts.agent,
    input: JSON.stringify(opts.input),
    enqueuedAt,
    deadlineAt: enqueuedAt + opts.maxQueueWaitMs,
  };
}
