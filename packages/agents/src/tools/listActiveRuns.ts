import { defineTool } from '@toolrun/dispatcher';
import { z } from 'zod';
import type { RunControl } from '../ports.ts';

/** The list_active_runs tool's input. */
export const listActiveRunsInput = z
  .object({
    userId: z.string().min(1).max(128).optional().describe("Only this user's runs"),
    agent: z.string().min(1).max(64).optional().describe('Only runs of this agent'),
  })
  .strict();

/**
 * `list_active_runs` (admin): every run in progress, across all users, oldest first, optionally
 * filtered by user or agent. Output `{ count, runs: { runId, userId, agent, startedAt }[] }`.
 */
export function createListActiveRunsTool(runControl: RunControl) {
  return defineTool({
    name: 'list_active_runs',
    description: 'Admin only. Lists the runs in progress across all users, oldest first.',
    input: listActiveRunsInput,
    access: 'admin',
    timeoutMs: 2_000,
    async run({ userId, agent }) {
      const runs = (await runControl.activeRuns())
        .filter(
          (run) => (userId === undefined || run.userId === userId) && (agent === undefined || run.agent === agent),
        )
        .map(({ runId, userId, agent, startedAt }) => ({ runId, userId, agent, startedAt }))
        .sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
      return { count: runs.length, runs };
    },
  });
}
