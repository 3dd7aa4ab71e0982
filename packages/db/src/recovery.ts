import type { AgentCompletedEvent, RunEvent, ToolCompletedEvent } from '@toolrun/dispatcher';
import { and, asc, eq } from 'drizzle-orm';
import type { DrizzleDb } from './drizzleDb.ts';
import type { EventWriter } from './eventWriter.ts';
import { runs, toolCalls } from './schema.ts';
import type { BatchExecutor } from './writeBatch.js';

/** The `error.code` of events appended by crash recovery (a dispatcher code: `INTERRUPTED`). */
export const INTERRUPTED = 'INTERRUPTED';

/**
 * Crash recovery, run at open before anything else can write: every run still `running` (its
 * process died) gets a `tool_completed` `cancelled` for each open tool call, then its
 * `agent_completed` `interrupted`, appended with the next seqs through the normal writer, all in
 * one transaction. Returns the appended events.
 */
export function recoverInterruptedRuns(opts: {
  db: DrizzleDb;
  writer: EventWriter;
  executor: BatchExecutor;
  now: () => number;
}): RunEvent[] {
  const { db, writer, executor } = opts;
  const openRuns = db
    .select()
    .from(runs)
    .where(eq(runs.status, 'running'))
    .orderBy(asc(runs.startedAt), asc(runs.id))
    .all();
  if (openRuns.length === 0) return [];
  const openCalls = (runId: string) =>
    db
      .select({ callId: toolCalls.callId, tool: toolCalls.tool, startedAt: toolCalls.startedAt })
      .from(toolCalls)
      .where(and(eq(toolCalls.runId, runId), eq(toolCalls.status, 'running')))
      .orderBy(asc(toolCalls.startSeq))
      .all();
  const now = opts.now();
  const recovered: RunEvent[] = [];
  const draft = writer.begin();
  db.transaction(() => {
    for (const run of openRuns) {
      const events = interruptionEvents(run, openCalls(run.id), now);
      draft.add(events);
      recovered.push(...events);
    }
    executor.execute(draft.build());
  });
  draft.committed();
  return recovered;
}

/**
 * The events that close a run its process left running: one `tool_completed` `cancelled` per open
 * call (in start order), then `agent_completed` `interrupted`, with the next seqs and the run's envelope.
 */
export function interruptionEvents(
  run: { id: string; userId: string; threadId: string; startedAt: number; lastSeq: number; toolCalls: number },
  openCalls: readonly { callId: string; tool: string; startedAt: number }[],
  now: number,
): RunEvent[] {
  const envelope = { runId: run.id, userId: run.userId, threadId: run.threadId, at: new Date(now).toISOString() };
  const events: RunEvent[] = [];
  let seq = run.lastSeq;
  for (const call of openCalls) {
    seq += 1;
    const completed: ToolCompletedEvent = {
      id: `${run.id}:${seq}`,
      seq,
      type: 'tool_completed',
      ...envelope,
      callId: call.callId,
      tool: call.tool,
      status: 'cancelled',
      error: { code: INTERRUPTED, message: 'the server stopped while this tool call was running' },
      durationMs: Math.max(0, now - call.startedAt),
    };
    events.push(completed);
  }
  seq += 1;
  const final: AgentCompletedEvent = {
    id: `${run.id}:${seq}`,
    seq,
    type: 'agent_completed',
    ...envelope,
    status: 'interrupted',
    error: { code: INTERRUPTED, message: 'the server stopped while this run was active' },
    durationMs: Math.max(0, now - run.startedAt),
    toolCalls: run.toolCalls,
  };
  events.push(final);
  return events;
}
