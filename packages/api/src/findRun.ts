import type { ToolrunServices } from './services.ts';

/** Who owns a run and how far it has got, as far as the server knows. */
export interface FoundRun {
  userId: string;
  /** Seq of its last committed event (0 when none is committed yet). */
  lastSeq: number;
  finished: boolean;
}

/**
 * Finds a run in the database or, when its `agent_started` is not committed yet, among the factory's
 * active runs. A run can also be neither for a moment: ended (so no longer active) with its events
 * still waiting for the sink's next group commit; the sink is then flushed and the database asked
 * again. `undefined` when nobody knows the run. Callers compare `userId` before revealing anything.
 */
export async function findRun(services: ToolrunServices, runId: string): Promise<FoundRun | undefined> {
  const stored = await lookUp(services, runId);
  if (stored !== undefined) return stored;
  const queued = await services.starter.queued(runId);
  if (queued !== undefined) return { userId: queued.record.userId, lastSeq: 0, finished: false };
  const active = services.factory.activeRuns().find((r) => r.runId === runId);
  if (active !== undefined) return { userId: active.userId, lastSeq: 0, finished: false };
  await services.sink.flush();
  return lookUp(services, runId);
}

async function lookUp(services: ToolrunServices, runId: string): Promise<FoundRun | undefined> {
  const run = await services.db.getRunRecord(runId);
  return run === undefined
    ? undefined
    : { userId: run.userId, lastSeq: run.lastSeq, finished: run.status !== 'running' };
}
