import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../../lib/trpc.ts';

// How often a waiting run's place in the queue is asked for again.
const POLL_MS = 1_000;

/**
 * A followed run's place in its user's queue (1 is next), kept live while the run has no events
 * yet: a queued run gets its first event, agent_started, when it starts. `undefined` for a run that
 * is not queued.
 */
export function useQueuePosition(runId: string, waiting: boolean): number | undefined {
  const trpc = useTRPC();
  const detail = useQuery({
    ...trpc.runs.get.queryOptions({ runId }),
    enabled: waiting,
    refetchInterval: waiting ? POLL_MS : false,
  });
  const run = detail.data?.run;
  return waiting && run?.status === 'queued' ? run.queued?.position : undefined;
}
