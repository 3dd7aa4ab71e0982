import type { RunEvent, ToolrunServices } from '@toolrun/api';

/**
 * Every stored event, read once through the database's own feed (commit order, each run in seq
 * order), as the synchronous per-run lookup `verifyLoad` takes.
 */
export async function storedEvents(db: ToolrunServices['db']): Promise<(runId: string) => RunEvent[] | undefined> {
  const byRun = new Map<string, RunEvent[]>();
  for (const event of await db.feedAfter({ userId: null })) {
    const list = byRun.get(event.runId);
    if (list === undefined) byRun.set(event.runId, [event]);
    else list.push(event);
  }
  return (runId) => byRun.get(runId);
}
