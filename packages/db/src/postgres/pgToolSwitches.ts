import { desc, eq, sql } from 'drizzle-orm';
import {
  checkSwitchChange,
  switchHistoryLimit,
  type ToolSwitchStore,
  toSwitchRecord,
} from '../repositories/toolSwitches.ts';
import type { PgDb } from './pgReads.ts';
import { toolSwitchChanges } from './schema.ts';

/** The channel `record` notifies (with the change's id) and `watch` listens on. */
export const TOOL_SWITCH_CHANNEL = 'toolrun_tool_switches';

/**
 * The PostgreSQL {@link ToolSwitchStore}: one row per change; a tool's state is its latest row. A change
 * is notified on {@link TOOL_SWITCH_CHANNEL} in its own transaction (PostgreSQL delivers it at commit, to
 * every process listening on the database); `watch` listens through `listen` (the lease connection).
 */
export function createPgToolSwitches(
  db: PgDb,
  now: () => number,
  listen: (channel: string, onNotify: () => void) => { ready: Promise<void>; close(): void },
): ToolSwitchStore {
  /** LISTENs not yet in force: `current()` waits for them, so a read after `watch` misses no change. */
  let listening: Promise<unknown> = Promise.resolve();
  return {
    async current() {
      await listening;
      // The latest change per tool: DISTINCT ON keeps each tool's first row in id-descending order.
      const rows = await db
        .selectDistinctOn([toolSwitchChanges.tool])
        .from(toolSwitchChanges)
        .orderBy(toolSwitchChanges.tool, desc(toolSwitchChanges.id));
      return rows.map(toSwitchRecord);
    },
    async record(change) {
      checkSwitchChange(change);
      const row = await db.transaction(async (tx) => {
        const [inserted] = await tx
          .insert(toolSwitchChanges)
          .values({ ...change, changedAt: now() })
          .returning();
        if (inserted === undefined) throw new Error('INSERT … RETURNING returned no row');
        await tx.execute(sql`SELECT pg_notify(${TOOL_SWITCH_CHANNEL}, ${String(inserted.id)})`);
        return inserted;
      });
      return toSwitchRecord(row);
    },
    async history(opts = {}) {
      const limit = switchHistoryLimit(opts.limit);
      const rows = await db
        .select()
        .from(toolSwitchChanges)
        .where(opts.tool === undefined ? sql`true` : eq(toolSwitchChanges.tool, opts.tool))
        .orderBy(desc(toolSwitchChanges.id))
        .limit(limit);
      return rows.map(toSwitchRecord);
    },
    watch(onChange) {
      const subscription = listen(TOOL_SWITCH_CHANNEL, onChange);
      listening = Promise.all([listening, subscription.ready]);
      return () => subscription.close();
    },
  };
}
