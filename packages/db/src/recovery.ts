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
  const at = new Date(now).toISOString();
  const recovered: RunEvent[] = [];
  const draft = writer.begin();
  // Pending approvals that keep their run: those of an open call in a run that can be resumed.
  const kept = new Set<string>();
  db.transaction(() => {
    for (const run of openRuns) {
      const envelope = { runId: run.id, userId: run.userId, threadId: run.threadId, at };
      const events: RunEvent[] = [];
      let seq = run.lastSeq;
      const calls = openCalls(run.id);
      const parked = resumable.has(run.agent)
        ? new Set(
            pendingApprovals
              .filter((a) => a.runId === run.id && calls.some((c) => c.callId === a.callId))
              .map((a) => a.callId),
          )
        : new Set<string>();
      for (const call of calls) {
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
      if (parked.size > 0) {
        for (const a of pendingApprovals) if (a.runId === run.id && parked.has(a.callId)) kept.add(a.id);
        if (events.length > 0) {
          draft.add(events);
          recovered.push(...events);
        }
        continue;
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
          reason: 'the server stopped while this approval was pending',
          callInput: null,
        })
        .where(and(eq(approvals.id, approval.id), eq(approvals.state, 'pending')))
        .run();
    }
  });
  draft.committed();
  return recovered;
}
