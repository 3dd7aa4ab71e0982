import { defineTool } from '@toolrun/dispatcher';
import { z } from 'zod';
import type { HistoryPurge } from '../ports.ts';

const DAY_MS = 86_400_000;

/** The purge_history tool's input. */
export const purgeHistoryInput = z
  .object({
    olderThanMs: z
      .number()
      .int()
      .min(0)
      .max(3_650 * DAY_MS)
      .default(30 * DAY_MS)
      .describe('Delete finished runs that ended more than this many ms ago (default 30 days)'),
  })
  .strict();

/**
 * `purge_history` (admin): deletes finished runs older than the cut-off, with their events and tool
 * calls, through the {@link HistoryPurge} port. Output `{ olderThanMs, runs, events }` (what was deleted).
 */
export function createPurgeHistoryTool(history: HistoryPurge) {
  return defineTool({
    name: 'purge_history',
    description: 'Admin only. Deletes finished runs (and their events) older than olderThanMs.',
    input: purgeHistoryInput,
    access: 'admin',
    timeoutMs: 30_000,
    async run({ olderThanMs }) {
      const { runs, events } = await history.prune({ olderThanMs });
      return { olderThanMs, runs, events };
    },
  });
}
