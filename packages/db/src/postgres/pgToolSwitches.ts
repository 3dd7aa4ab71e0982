import { desc, eq, sql } from 'drizzle-orm';
import {
  checkSwitchChange,
  switchHistoryLimit,
  type ToolSwitchStore,
  toSwitchRecord,
} from '../repositories/toolSwitches.ts';
import type { PgDb } from './pgReads.ts';
import { toolSwitchChanges } from './schema.ts';

/** The PostgreSQL {@link ToolSwitchStore}: one row per change; a tool's state is its latest row. */
export function createPgToolSwitches(db: PgDb, now: () => number): ToolSwitchStore {
  return {
    async current() {
      // The latest change per tool: DISTINCT ON keeps each tool's first row in id-descending order.
      const rows = await db
        .selectDistinctOn([toolSwitchChanges.tool])
        .from(toolSwitchChanges)
        .orderBy(toolSwitchChanges.tool, desc(toolSwitchChanges.id));
      return rows.map(toSwitchRecord);
    },
    async record(change) {
      checkSwitchChange(change);
      const [row] = await db
        .insert(toolSwitchChanges)
        .values({ ...change, changedAt: now() })
        .returning();
      if (row === undefined) throw new Error('INSERT … RETURNING returned no row');
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
  };
}
