import type { ToolrunDatabase } from '@toolrun/db';
import type { DispatcherFactory } from '@toolrun/dispatcher';
import type { Logger } from '../logger.ts';

/**
 * Continues the runs an earlier process left waiting for approval (crash recovery kept them
 * running): each waits for its approval again, at the next seq, and its agent resumes at the
 * pending calls (README "Approvals"). A run that cannot be resumed is logged and left to the next
 * start's recovery. With `only`, just those runs (a cluster worker's reaper adopted them).
 */
export async function resumeParkedRuns(
  factory: DispatcherFactory,
  db: ToolrunDatabase,
  logger: Logger,
  only?: ReadonlySet<string>,
): Promise<void> {
  for (const parked of await db.approvals.parkedRuns()) {
    if (only !== undefined && !only.has(parked.runId)) continue;
    const log = logger.child({ runId: parked.runId });
    try {
      const { done } = factory.approvals.resume(parked);
      log.warn({ agent: parked.agent, pending: parked.pending.length }, 'resumed a run parked on approval');
      done.then(
        (last) => log.info({ status: last.status, durationMs: last.durationMs }, 'run finished'),
        (error: unknown) => log.error({ err: error }, 'run failed to finish'),
      );
    } catch (error) {
      log.error({ err: error }, 'could not resume a run parked on approval');
    }
  }
}
