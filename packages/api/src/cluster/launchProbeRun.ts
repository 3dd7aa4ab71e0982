import type { AgentCompletedEvent, JsonValue, ProbeRun } from '@toolrun/dispatcher';
import type { ToolrunServices } from '../services.ts';

// How often a launched run's end is looked for in the database, and for how long at most.
const POLL_MS = 100;
const MAX_WAIT_MS = 600_000;

/**
 * Starts one run of the isolation probe through the services' starter (in cluster mode: durable,
 * enqueued, executed by a worker) and reads its end from the database, where the worker commits it,
 * independently of the deliveries the probe is checking.
 */
export async function launchProbeRun(
  services: ToolrunServices,
  run: { userId: string; agent: string; input: JsonValue },
): Promise<ProbeRun> {
  const { runId } = await services.starter.start(
    { userId: run.userId, roles: ['user'] },
    { agent: run.agent, input: run.input, threadId: `${run.userId}-thread` },
  );
  const done = (async (): Promise<AgentCompletedEvent> => {
    const until = Date.now() + MAX_WAIT_MS;
    for (;;) {
      const record = await services.db.getRunRecord(runId).catch(() => undefined);
      if (record !== undefined && record.status !== 'running') {
        const [last] = await services.db.eventsAfter(runId, record.lastSeq - 1, 1);
        if (last?.type === 'agent_completed') return last;
      }
      if (Date.now() > until || services.signal.aborted) {
        throw new Error(`run ${runId} did not end within ${MAX_WAIT_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    runId,
    done,
    cancel(reason) {
      services.cancelRun(runId, reason).catch(() => {});
    },
  };
}
