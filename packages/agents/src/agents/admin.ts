import { defineAgent, type JsonValue } from '@toolrun/dispatcher';
import { z } from 'zod';
import { describeFailure, outputOf } from '../lib/toolResults.ts';

/** The admin agent's input: both actions are optional; with `{}` it only lists. */
export const adminAgentInput = z
  .object({
    cancelRunId: z.string().min(1).max(128).optional().describe('A run to cancel after listing'),
    purgeOlderThanMs: z.number().int().min(0).optional().describe('Also purge finished runs older than this'),
  })
  .strict();

const listOutput = z.object({
  count: z.number(),
  runs: z.array(z.object({ runId: z.string(), userId: z.string(), agent: z.string(), startedAt: z.string() })),
});
const cancelOutput = z.object({ runId: z.string(), cancelled: z.boolean() });
const purgeOutput = z.object({ runs: z.number(), events: z.number() });

/**
 * `admin` (access admin): lists every active run across users with `list_active_runs`, then, when
 * asked, cancels one (`cancel_run`) and purges old history (`purge_history`).
 */
export const adminAgent = defineAgent({
  name: 'admin',
  description: 'Admin only. Lists active runs across all users; optionally cancels one and purges old history.',
  input: adminAgentInput,
  access: 'admin',
  async run({ cancelRunId, purgeOlderThanMs }, ctx) {
    ctx.think(
      'Listing the active runs of every user: as an admin I may see them all, and that is what list_active_runs is for.',
    );
    const listed = await ctx.callTool('list_active_runs', {});
    ctx.signal.throwIfAborted();
    const active = outputOf(listed, listOutput);
    if (active === undefined) {
      ctx.think(`Could not list the active runs: ${describeFailure(listed)}.`);
    } else {
      const others = active.runs.filter((run) => run.runId !== ctx.context.runId);
      const byAgent = new Map<string, number>();
      for (const run of others) byAgent.set(run.agent, (byAgent.get(run.agent) ?? 0) + 1);
      ctx.think(
        others.length === 0
          ? 'No other run is active right now; only this one.'
          : `${others.length} other run${others.length === 1 ? ' is' : 's are'} active (` +
              `${[...byAgent].map(([agent, n]) => `${n} × ${agent}`).join(', ')}) across ` +
              `${new Set(others.map((run) => run.userId)).size} user(s).`,
      );
    }
    const result: { [key: string]: JsonValue } = { active: active?.runs ?? null };

    if (cancelRunId !== undefined) {
      ctx.think(`Cancelling run ${cancelRunId} as asked; its owner will see it end with agent_completed cancelled.`);
      const cancelled = await ctx.callTool('cancel_run', {
        runId: cancelRunId,
        reason: `cancelled by admin ${ctx.context.userId}`,
      });
      ctx.signal.throwIfAborted();
      const output = outputOf(cancelled, cancelOutput);
      ctx.think(
        output === undefined
          ? `The cancel failed: ${describeFailure(cancelled)}.`
          : output.cancelled
            ? `Run ${cancelRunId} is cancelled.`
            : `Run ${cancelRunId} was not active (finished already or unknown), so there was nothing to cancel.`,
      );
      result.cancel = output ?? { runId: cancelRunId, cancelled: false, error: describeFailure(cancelled) };
    }

    if (purgeOlderThanMs !== undefined) {
      ctx.think(`Purging finished runs older than ${purgeOlderThanMs} ms to keep the history small.`);
      const purged = await ctx.callTool('purge_history', { olderThanMs: purgeOlderThanMs });
      ctx.signal.throwIfAborted();
      const output = outputOf(purged, purgeOutput);
      ctx.think(
        output === undefined
          ? `The purge failed: ${describeFailure(purged)}.`
          : `Purged ${output.runs} run(s) and ${output.events} event(s).`,
      );
      result.purge = output ?? { error: describeFailure(purged) };
    }
    return result;
  },
});
