import { useQuery } from '@tanstack/react-query';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { useTRPC } from '../../lib/trpc.ts';

// How often a waiting run's place in the queue is asked for again.
const POLL_MS = 1_000;

/**
 * A followed run's place in its user's queue, kept live while the run has no events yet (a queued
 * run gets its first event, agent_started, when it starts). Renders nothing for a run that is not queued.
 */
export function QueuePosition(props: { runId: string; waiting: boolean }) {
  const trpc = useTRPC();
  const detail = useQuery({
    ...trpc.runs.get.queryOptions({ runId: props.runId }),
    enabled: props.waiting,
    refetchInterval: props.waiting ? POLL_MS : false,
  });
  const run = detail.data?.run;
  if (!props.waiting || run?.status !== 'queued' || run.queued === undefined) return null;
  const { position } = run.queued;
  return (
    <span data-testid="queue-position" data-position={position}>
      <StatusBadge
        status="queued"
        label={`queued · ${position === 1 ? 'next' : `#${position}`}`}
        title="waiting for a free slot: you are at your concurrent-run limit"
      />
    </span>
  );
}
