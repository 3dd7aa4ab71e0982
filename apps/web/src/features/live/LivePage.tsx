import { useQuery } from '@tanstack/react-query';
import { ErrorText } from '../../components/ErrorText.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { routeHref } from '../../lib/hashRoute.ts';
import { useSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { useLiveRuns } from '../../lib/useLiveRuns.ts';
import { RunCard } from './RunCard.tsx';
import { StartRunForm } from './StartRunForm.tsx';

/** Cards drawn at most; the older runs are listed in one line each below them. */
export const MAX_RUN_CARDS = 12;

/**
 * Start runs and watch them unfold: a card per run of the user (started here, in another tab or by any
 * client), all fed by the session's one `runs.feed` stream, newest first; past {@link MAX_RUN_CARDS}
 * the older ones are listed ("and N more"). Runs that were already running before this page connected
 * can be followed from the list on the left.
 */
export function LivePage() {
  const trpc = useTRPC();
  const { session } = useSession();
  const runs = useLiveRuns();
  const running = useQuery({
    ...trpc.runs.list.queryOptions({ status: 'running', limit: 20 }),
    refetchInterval: 3_000,
  });
  const followed = new Set(runs.map((r) => r.runId));
  const others = (running.data?.items ?? []).filter((r) => !followed.has(r.id));
  const recentThreads = [...new Set(runs.map((r) => r.threadId))];

  return (
    <section className="stack" aria-labelledby="live-title">
      <div className="page-head">
        <h2 id="live-title">Live</h2>
        <p>
          Every run of yours streams its five events as they happen, all over one feed; a dropped feed resumes from its
          last event id.
        </p>
      </div>
      <div className="grid2">
        <div className="stack">
          <StartRunForm recentThreads={recentThreads} />
          <section className="panel stack" aria-labelledby="running-title">
            <h3 id="running-title">Running now, not followed here</h3>
            <ErrorText error={running.error} />
            {running.isPending ? (
              <div className="empty">Loading…</div>
            ) : others.length === 0 ? (
              <div className="empty" data-testid="running-none">
                None.
              </div>
            ) : (
              <table>
                <tbody>
                  {others.map((r) => (
                    <tr key={r.id}>
                      <td className="mono small">{r.id}</td>
                      <td>{r.agent}</td>
                      <td className="muted small">{formatDateTime(r.startedAt)}</td>
                      <td>
                        <button
                          type="button"
                          onClick={() =>
                            session.liveRuns?.follow({ runId: r.id, agent: r.agent, threadId: r.threadId })
                          }
                        >
                          Follow
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </div>
        <div className="runs" data-testid="live-runs">
          {runs.length === 0 ? (
            <div className="panel empty">No runs followed yet. Start one on the left.</div>
          ) : (
            runs.slice(0, MAX_RUN_CARDS).map((run) => <RunCard key={run.runId} run={run} />)
          )}
          {runs.length > MAX_RUN_CARDS && (
            <section className="panel stack" data-testid="more-runs" aria-label="older runs">
              <h3>and {runs.length - MAX_RUN_CARDS} more</h3>
              <table>
                <tbody>
                  {runs.slice(MAX_RUN_CARDS).map((r) => (
                    <tr key={r.runId} data-testid="more-run" data-run-id={r.runId}>
                      <td>
                        <a className="mono small" href={routeHref({ page: 'run', runId: r.runId })}>
                          {r.runId}
                        </a>
                      </td>
                      <td>{r.agent}</td>
                      <td>
                        <StatusBadge status={r.timeline.completed?.status ?? 'running'} />
                      </td>
                      <td>
                        <button type="button" onClick={() => session.liveRuns?.dismiss(r.runId)}>
                          Dismiss
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
        </div>
      </div>
    </section>
  );
}
