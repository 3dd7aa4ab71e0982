import type { ErrorInfo, JsonValue } from '@toolrun/dispatcher';
import { asc, eq } from 'drizzle-orm';
import { type DrizzleDb, iso, isoOrNull } from '../drizzleDb.ts';
import { type ToolCallRecordStatus, toolCalls } from '../schema.ts';

/** One tool call of a run, opened by `tool_executing` and closed by `tool_completed`. */
export interface ToolCallRecord {
  runId: string;
  callId: string;
  tool: string;
  /** Redacted, as in the event. */
  input: JsonValue;
  status: ToolCallRecordStatus;
  output: JsonValue | null;
  error: ErrorInfo | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  /** Seq of its `tool_executing` event. */
  startSeq: number;
  /** Seq of its `tool_completed` event, null while running. */
  endSeq: number | null;
}

/** Reads tool-call rows (written only by the persistent sink). */
export interface ToolCallsRepository {
  /** The run's tool calls in the order they started. */
  forRun(runId: string): ToolCallRecord[];
}

/** Tool-call rows through drizzle. */
export function createToolCallsRepository(db: DrizzleDb): ToolCallsRepository {
  return {
    forRun(runId) {
      return db
        .select()
        .from(toolCalls)
        .where(eq(toolCalls.runId, runId))
        .orderBy(asc(toolCalls.startSeq))
        .all()
        .map((row) => ({
          ...row,
          startedAt: iso(row.startedAt),
          finishedAt: isoOrNull(row.finishedAt),
        }));
    },
  };
}
