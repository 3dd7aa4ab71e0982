import { defineTool } from '@toolrun/dispatcher';
import { z } from 'zod';
import type { RunControl } from '../ports.ts';

/** The cancel_run tool's input. */
export const cancelRunInput = z
  .object({
    runId: z.string().min(1).max(128).describe('The run to cancel'),
    reason: z.string().max(200).optional().describe('Why; recorded with the cancellation'),
  })
  .strict();

/**
 * `cancel_run` (admin): cancels any user's run. Output `{ runId, cancelled }`, where `cancelled` is
 * `false` when the run was not active (already finished or unknown): not an error, since the
 * outcome the admin wanted (the run is not running) holds either way.
 */
export function createCancelRunTool(runControl: RunControl) {
  return defineTool({
    name: 'cancel_run',
    description: "Admin only. Cancels any user's active run; the run still ends with its events.",
    input: cancelRunInput,
    access: 'admin',
    timeoutMs: 2_000,
    async run({ runId, reason }, { context }) {
      const cancelled = await runControl.cancelRun(runId, reason ?? `cancelled by admin ${context.userId}`);
      return { runId, cancelled };
    },
  });
}
