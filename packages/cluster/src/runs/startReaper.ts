import type { ToolrunServices } from '@toolrun/api';
import { resumeParkedRuns } from '@toolrun/api';
import type { RunEvent } from '@toolrun/dispatcher';

/**
 * Calls the database's reaper (`db.runLeases.reapExpired()`, one process at a time across the cluster)
 * every `intervalMs`: runs whose lease expired (their worker died or stalled) or whose process is gone
 * are closed `interrupted`, and the events that close them go to `publish` so that their followers see
 * the end live; those that were waiting for approval are adopted and resumed here (they wait on, and
 * a decision relayed from any API process reaches them). Returns the stop function; a no-op without
 * run leases (single mode).
 */
export function startReaper(opts: {
  services: ToolrunServices;
  intervalMs: number;
  publish(events: readonly RunEvent[]): void;
}): () => void {
  const { services } = opts;
  const leases = services.db.runLeases;
  if (leases === undefined) return () => {};
  let busy = false;
  const reap = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const { events, adopted } = await leases.reapExpired();
      if (events.length > 0) {
        opts.publish(events);
        const runs = events.filter((event) => event.type === 'agent_completed').map((event) => event.runId);
        services.logger.warn({ runs }, 'closed runs whose lease expired as interrupted');
      }
      if (adopted.length > 0) {
        // Their process died while they waited for approval: they wait on here, and go on when decided.
        services.logger.warn({ runs: adopted }, 'adopted runs parked on approval');
        await resumeParkedRuns(services.factory, services.db, services.logger, new Set(adopted));
      }
    } catch (error) {
      services.logger.warn({ err: error }, 'reaping expired runs failed');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void reap(), opts.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
