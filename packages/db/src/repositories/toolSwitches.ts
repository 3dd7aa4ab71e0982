import { desc, eq, sql } from 'drizzle-orm';
import { type DrizzleDb, iso } from '../drizzleDb.ts';
import { DbError } from '../errors.ts';
import { toolSwitchChanges } from '../schema.ts';

/** One change of a tool's kill switch: who turned it off or on again, when and why. */
export interface ToolSwitchRecord {
  id: number;
  tool: string;
  enabled: boolean;
  reason: string;
  changedBy: string;
  /** ISO-8601. */
  changedAt: string;
}

/** Longest accepted reason, in UTF-16 code units. */
export const MAX_SWITCH_REASON_LENGTH = 500;

/**
 * The durable, audited kill switch per tool. Promise-returning, as every store a backend other than
 * SQLite must also implement. A tool without a change is enabled.
 */
export interface ToolSwitchStore {
  /** Each tool's latest change (disabled or enabled again), by tool name. */
  current(): Promise<ToolSwitchRecord[]>;
  /** Records a change and returns it. */
  record(change: { tool: string; enabled: boolean; reason: string; changedBy: string }): Promise<ToolSwitchRecord>;
  /** Changes newest first, of one tool or all. */
  history(opts?: { tool?: string; limit?: number }): Promise<ToolSwitchRecord[]>;
  /**
   * Calls `onChange` when another process may have recorded a change (PostgreSQL: `LISTEN` on a channel
   * that `record` notifies in its transaction; also after the listening connection reconnects), so
   * that a process answering from memory re-reads `current()`. A `current()` called after `watch`
   * misses nothing: every later change is notified. SQLite: one process per file, so a no-op. Returns
   * the unsubscribe function.
   */
  watch(onChange: () => void): () => void;
}

type Row = typeof toolSwitchChanges.$inferSelect;

/** A change's record (both backends). */
export function toSwitchRecord(row: Row): ToolSwitchRecord {
  return {
    id: row.id,
    tool: row.tool,
    enabled: row.enabled,
    reason: row.reason,
    changedBy: row.changedBy,
    changedAt: iso(row.changedAt),
  };
}

/** Refuses a tool name or reason out of bounds (both backends). */
export function checkSwitchChange(change: { tool: string; reason: string }): void {
  if (change.tool === '' || change.tool.length > 256) {
    throw new DbError('INVALID_ARGUMENT', 'tool must be a name of 1 to 256 characters');
  }
  if (change.reason.length > MAX_SWITCH_REASON_LENGTH) {
    throw new DbError('INVALID_ARGUMENT', `reason must be at most ${MAX_SWITCH_REASON_LENGTH} characters`);
  }
}

/** `history`'s page size: 100 by default, 1 to 1,000 (both backends). */
export function switchHistoryLimit(limit: number | undefined): number {
  return Math.min(Math.max(limit ?? 100, 1), 1_000);
}

/** The SQLite {@link ToolSwitchStore}: one row per change in `tool_switch_changes`. */
export function createSqliteToolSwitches(db: DrizzleDb, now: () => number): ToolSwitchStore {
  const attempt = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));
  const toRecord = toSwitchRecord;
  return {
    current: () =>
      attempt(() => {
        const latest = db
          .select({ id: sql<number>`max(${toolSwitchChanges.id})` })
          .from(toolSwitchChanges)
          .groupBy(toolSwitchChanges.tool);
        return db
          .select()
          .from(toolSwitchChanges)
          .where(sql`${toolSwitchChanges.id} in ${latest}`)
          .orderBy(toolSwitchChanges.tool)
          .all()
          .map(toRecord);
      }),
    record: (change) =>
      attempt(() => {
        checkSwitchChange(change);
        const row = db
          .insert(toolSwitchChanges)
          .values({ ...change, changedAt: now() })
          .returning()
          .get();
        return toRecord(row);
      }),
    history: (opts = {}) =>
      attempt(() => {
        const limit = switchHistoryLimit(opts.limit);
        const query = db.select().from(toolSwitchChanges);
        const filtered = opts.tool === undefined ? query : query.where(eq(toolSwitchChanges.tool, opts.tool));
        return filtered.orderBy(desc(toolSwitchChanges.id)).limit(limit).all().map(toRecord);
      }),
    // One process writes a SQLite file: its own changes are all there is.
    watch: () => () => {},
  };
}
