import type { AgentCompletedEvent, RunEvent, ToolCompletedEvent } from '@toolrun/dispatcher';
import { and, asc, eq } from 'drizzle-orm';
import type { DrizzleDb } from './drizzleDb.ts';
import type { EventWriter } from './eventWriter.ts';
import { approvals, runs, toolCalls } from './schema.ts';
import type { BatchExecutor } from './writeBatch.js';

/** The `error.code` of events appended by crash recovery (a dispatcher code: `INTERRUPTED`). */
export const INTERRUPTED = 'INTERRUPTED';

/**
 * Crash recovery, run at open before anything else can write: every run still `running` (its
 * process died) gets a `tool_completed` `cancelled` for each open tool call, then its
 * `agent_completed` `interrupted`, appended with the next seqs through the normal writer, all in
 * one transaction. Returns the appended events.
 *
 * Except a parked run (README "Approvals"): a run of an agent in `resumableAgents` with an open call
 * whose approval is pending stays `running`, for the server to resume; only its other open calls
 * are closed (`cancelled`, `INTERRUPTED`). Pending approvals of runs that are closed, or of calls
 * no longer open, are settled `cancelled`.
 */
export function recoverInterruptedRuns(opts: {
  db: DrizzleDb;
  writer: EventWriter;
  executor: BatchExecutor;
  now: () => number;
  resumableAgents?: ReadonlySet<string>;
}): RunEvent[] {
  const { db, writer, executor } = opts;
  const resumable = opts.resumableAgents ?? new Set<string>();
  const pendingApprovals = db
    .select({ id: approvals.id, runId: approvals.runId, callId: approvals.callId })
    .from(approvals)
    .where(eq(approvals.state, 'pending'))
    .all();
  const openRuns = db
    .select()
    .from(runs)
    .where(eq(runs.status, 'running'))
    .orderBy(asc(runs.startedAt), asc(runs.id))
    .all();
  if (openRuns.length === 0 && pendingApprovals.length === 0) return [];
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
  // Pending approvals that keep their run: those of an open call in a run that can be resumed.
  const kept = new Set<string>();
  db.transaction(() => {
    for (const run of openRuns) {
      const calls = openCalls(run.id);
      const parked = parkedCalls(run, calls, pendingApprovals, resumable);
      for (const a of pendingApprovals) if (a.runId === run.id && parked.has(a.callId)) kept.add(a.id);
      const events = interruptionEvents(run, calls, now, parked);
      if (events.length === 0) continue;
      draft.add(events);
      recovered.push(...events);
    }
    executor.execute(draft.build());
    for (const approval of pendingApprovals) {
      if (kept.has(approval.id)) continue;
      db.update(approvals)
        .set({
          state: 'cancelled',
          decidedAt: now,
          reason: RECOVERY_CANCEL_REASON,
          callInput: null,
        })
        .where(and(eq(approvals.id, approval.id), eq(approvals.state, 'pending')))
        .run();
    }
  });
  draft.committed();
  return recovered;
}

/** The message of an approval cancelled by crash recovery. */
export const RECOVERY_CANCEL_REASON = 'the server stopped while this approval was pending';

/**
 * The open calls of `run` that keep it parked across the restart: those with a pending approval,
 * when the run's agent can resume (both backends decide alike).
 */
export function parkedCalls(
  run: { id: string; agent: string },
  openCalls: readonly { callId: string }[],
  pendingApprovals: readonly { runId: string; callId: string }[],
  resumableAgents: ReadonlySet<string>,
): Set<string> {
  if (!resumableAgents.has(run.agent)) return new Set();
  return new Set(
    pendingApprovals
      .filter((a) => a.runId === run.id && openCalls.some((c) => c.callId === a.callId))
      .map((a) => a.callId),
  );
}

/**
 * The events that close a run its process left running: one `tool_completed` `cancelled` per open
 * call (in start order), then `agent_completed` `interrupted`, with the next seqs and the run's envelope.
 * Calls in `parked` stay open, and a run with any stays running (no `agent_completed`).
 */
export function interruptionEvents(
  run: { id: string; userId: string; threadId: string; startedAt: number; lastSeq: number; toolCalls: number },
  openCalls: readonly { callId: string; tool: string; startedAt: number }[],
  now: number,
  parked: ReadonlySet<string> = new Set(),
): RunEvent[] {
  const envelope = { runId: run.id, userId: run.userId, threadId: run.threadId, at: new Date(now).toISOString() };
  const events: RunEvent[] = [];
  let seq = run.lastSeq;
  for (const call of openCalls) {
    if (parked.has(call.callId)) continue;
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
  if (parked.size > 0) return events;
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
