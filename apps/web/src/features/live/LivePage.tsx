import { useQuery } from '@tanstack/react-query';
import { ErrorText } from '../../components/ErrorText.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { useSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { useLiveRuns } from '../../lib/useLiveRuns.ts';
import { RunCard } from './RunCard.tsx';
import { StartRunForm } from './StartRunForm.tsx';

/**
 * Start runs and watch them unfold: one card per followed run, several at once, each with its
 * stream state. Runs of this user that are still running elsewhere (another tab, before a reload)
 * can be followed too.
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
        <p>Runs stream their five events as they happen; a dropped stream resumes from the last event id.</p>
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
            runs.map((run) => <RunCard key={run.runId} run={run} />)
          )}
        </div>
      </div>
    </section>
  );
}
