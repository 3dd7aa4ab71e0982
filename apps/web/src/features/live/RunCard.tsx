import { useMutation } from '@tanstack/react-query';
import { ErrorText } from '../../components/ErrorText.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { VirtualRows } from '../../components/VirtualRows.tsx';
import { formatMs } from '../../lib/format.ts';
import { routeHref } from '../../lib/hashRoute.ts';
import type { LiveRun } from '../../lib/liveRunsStore.ts';
import { useSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { WaterfallView } from '../waterfall/WaterfallView.tsx';
import { TimelineRowView } from './TimelineRowView.tsx';
import { useQueuePosition } from './useQueuePosition.ts';

/**
 * One followed run: its header (status, feed state, cancel), its waterfall growing as the calls start
 * and end, and its live timeline; the stored run's page (the event table and the replay) is one click
 * away on its id or "Events".
 */
export function RunCard(props: { run: LiveRun }) {
  const { run } = props;
  const trpc = useTRPC();
  const { session } = useSession();
  const cancel = useMutation(trpc.runs.cancel.mutationOptions());
  const { timeline } = run;
  const started = timeline.events[0];
  const startedAt = started?.type === 'agent_started' ? started.at : undefined;
  const done = timeline.completed;
  const position = useQueuePosition(run.runId, timeline.events.length === 0);
  const status = done?.status ?? (position === undefined ? 'running' : 'queued');
  return (
    <article
      className="panel run-card"
      data-testid="run-card"
      data-run-id={run.runId}
      data-status={status}
      aria-label={`run ${run.runId}`}
    >
      <header className="row">
        <strong>{run.agent}</strong>
        <a className="mono small" href={routeHref({ page: 'run', runId: run.runId })}>
          {run.runId}
        </a>
        <span className="muted small mono" title="thread">
          thread {run.threadId}
        </span>
        <StatusBadge status={status} />
        {position !== undefined && (
          <span
            className="muted small"
            data-testid="queue-position"
            data-position={position}
            title="waiting for a free slot: you are at your concurrent-run limit"
          >
            {position === 1 ? 'next in your queue' : `#${position} in your queue`}
          </span>
        )}
        <span data-testid="link-state" data-state={run.link} data-drops={run.drops}>
          <StatusBadge
            status={run.link}
            title={
              run.drops > 0
                ? `the feed dropped ${run.drops}× while this run was open and resumed from its last event id`
                : 'state of the live feed for this run'
            }
            label={
              run.drops > 0 && run.link !== 'reconnecting'
                ? `${run.link} (${run.drops} drop${run.drops === 1 ? '' : 's'})`
                : run.link
            }
          />
        </span>
        <span className="muted small" data-testid="event-count">
          {timeline.lastSeq} events{timeline.openToolCalls > 0 ? ` · ${timeline.openToolCalls} executing` : ''}
          {done !== undefined ? ` · ${formatMs(done.durationMs)}` : ''}
        </span>
        <span className="spacer" />
        <a className="small" href={routeHref({ page: 'run', runId: run.runId })} data-testid="events-link">
          Events
        </a>
        <button
          type="button"
          className="danger"
          disabled={done !== undefined || cancel.isPending || cancel.isSuccess}
          onClick={() => cancel.mutate({ runId: run.runId })}
        >
          {cancel.isPending ? 'Cancelling…' : cancel.isSuccess && done === undefined ? 'Cancel requested' : 'Cancel'}
        </button>
        <button
          type="button"
          onClick={() => session.liveRuns?.dismiss(run.runId)}
          aria-label={`Dismiss run ${run.runId}`}
        >
          Dismiss
        </button>
      </header>
      {run.error !== undefined && (
        <ErrorText error={new Error(run.error)} prefix={run.link === 'failed' ? 'Refused' : 'Feed dropped'} />
      )}
      <ErrorText error={cancel.error} prefix="Cancel failed" />
      {timeline.toolRows.size > 0 && (
        <section className="run-waterfall" aria-label={`waterfall of ${run.runId}`}>
          <WaterfallView events={timeline.events} />
        </section>
      )}
      <div className="timeline" data-testid="timeline">
        {timeline.rows.length === 0 ? (
          <div className="empty">{run.link === 'failed' ? 'No events.' : 'Waiting for the first event…'}</div>
        ) : (
          <VirtualRows
            count={timeline.rows.length}
            rowKey={(i) => timeline.rows[i]?.key ?? String(i)}
            renderRow={(i) => {
              const row = timeline.rows[i];
              return row === undefined ? null : <TimelineRowView row={row} startedAt={startedAt} />;
            }}
            height="420px"
            follow={done === undefined}
            label={`timeline of ${run.runId}`}
          />
        )}
      </div>
    </article>
  );
}
