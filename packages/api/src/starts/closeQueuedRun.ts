import type { QueuedRunRecord } from '@toolrun/db';
import type { AgentCompletedEvent, AgentStartedEvent, DispatcherMetrics, RedactionOptions } from '@toolrun/dispatcher';
import { eventId, redact } from '@toolrun/dispatcher';

/**
 * How a queued run ends without ever starting (`interrupted`: a worker took it and died or stalled
 * before its first commit, so its tools may have run: it is closed, never executed again).
 */
export interface QueuedRunEnding {
  readonly status: 'cancelled' | 'failed' | 'interrupted';
  readonly code: string;
  readonly message: string;
}

/**
 * The whole life of a run that ends while queued: its `agent_started` (with how long it waited)
 * and its `agent_completed`, so that every run, even one that never started, has the five-event
 * shape. Written to the sink like any run's events, so they are durable and delivered the same way.
 */
export function queuedRunEvents(opts: {
  record: QueuedRunRecord;
  ending: QueuedRunEnding;
  now: number;
  redaction: RedactionOptions;
  metrics: DispatcherMetrics;
}): [AgentStartedEvent, AgentCompletedEvent] {
  const { record, ending, now, metrics } = opts;
  const { runId, userId, threadId, agent } = record;
  const at = new Date(now).toISOString();
  const envelope = (seq: number) => ({ id: eventId(runId, seq), seq, runId, userId, threadId, at });
  const started: AgentStartedEvent = {
    ...envelope(1),
    type: 'agent_started',
    agent,
    input: redact(JSON.parse(record.input), opts.redaction),
    queuedMs: Math.max(0, now - record.enqueuedAt),
  };
  const completed: AgentCompletedEvent = {
    ...envelope(2),
    type: 'agent_completed',
    status: ending.status,
    error: { code: ending.code, message: ending.message },
    durationMs: 0,
    toolCalls: 0,
  };
  metrics.eventEmitted('agent_started');
  metrics.eventEmitted('agent_completed');
  metrics.runFinished(agent, ending.status, 0);
  return [started, completed];
}
