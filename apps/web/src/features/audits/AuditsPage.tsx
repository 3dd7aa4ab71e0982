import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { ErrorText } from '../../components/ErrorText.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatDateTime, formatMs, jsonPreview } from '../../lib/format.ts';
import { routeHref } from '../../lib/hashRoute.ts';
import { useSession } from '../../lib/session.ts';
import { isAdminIdentity } from '../../lib/sessionStore.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { AuditReport } from './AuditReport.tsx';
import { readIsolationReport } from './readIsolationReport.ts';

/** Ticks every `ms` while `active`, returning the elapsed milliseconds since it became active. */
function useElapsed(active: boolean, ms = 100): number {
  const [startedAt, setStartedAt] = useState(0);
  const [now, setNow] = useState(0);
  useEffect(() => {
    if (!active) return;
    const start = Date.now();
    setStartedAt(start);
    setNow(start);
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
  return active ? now - startedAt : 0;
}

/** `4 × 2` from a stored audit's params. */
function probeSize(params: unknown): string {
  const p = typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {};
  return `${String(p.users ?? '?')} × ${String(p.runsPerUser ?? '?')}`;
}

/**
 * Isolation audits (admin): run a probe of N users × M concurrent runs, watch it progress, and read
 * stored reports: zero violations is a clear PASS, anything else a clear FAIL listing the events.
 */
export function AuditsPage(props: { auditId: string | undefined }) {
  const { session } = useSession();
  if (!isAdminIdentity(session.identity)) {
    return (
      <section className="stack">
        <h2>Isolation audits</h2>
        <div className="panel">
          Audits need the admin role. <a href="#/identity">Switch identity</a> to an admin.
        </div>
      </section>
    );
  }
  return <AdminAudits auditId={props.auditId} />;
}

function AdminAudits(props: { auditId: string | undefined }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [users, setUsers] = useState(5);
  const [runsPerUser, setRunsPerUser] = useState(3);
  const probe = useMutation(
    trpc.audit.isolation.run.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.audit.list.queryKey() }),
    }),
  );
  const elapsed = useElapsed(probe.isPending);
  // While the probe runs (the mutation only answers at the end), show what the server is doing.
  const live = useQuery({ ...trpc.metrics.snapshot.queryOptions(), enabled: probe.isPending, refetchInterval: 500 });
  const audits = useQuery(trpc.audit.list.queryOptions());
  const selected = useQuery({
    ...trpc.audit.get.queryOptions({ id: props.auditId ?? '' }),
    enabled: props.auditId !== undefined,
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    probe.mutate({ users, runsPerUser });
  };

  return (
    <section className="stack" aria-labelledby="audits-title">
      <div className="page-head">
        <h2 id="audits-title">Isolation audits</h2>
        <p>N synthetic users run agents concurrently; the audit checks that no event reached anyone but its owner.</p>
      </div>
      <div className="grid2">
        <div className="stack">
          <form className="panel stack" onSubmit={onSubmit} data-testid="audit-form">
            <h3>Run a probe</h3>
            <div className="row">
              <label>
                Users (N)
                <input
                  type="number"
                  min={1}
                  max={200}
                  value={users}
                  onChange={(e) => setUsers(Number(e.target.value))}
                  name="users"
                />
              </label>
              <label>
                Runs per user (M)
                <input
                  type="number"
                  min={1}
                  max={50}
                  value={runsPerUser}
                  onChange={(e) => setRunsPerUser(Number(e.target.value))}
                  name="runsPerUser"
                />
              </label>
              <button type="submit" className="primary" disabled={probe.isPending}>
                {probe.isPending ? 'Running…' : 'Run audit'}
              </button>
            </div>
            {probe.isPending && (
              <div className="row" data-testid="audit-progress" role="status">
                <span className="spinner" aria-hidden="true" />
                <span>
                  {users * runsPerUser} runs · {formatMs(elapsed)} elapsed
                  {live.data !== undefined &&
                    ` · ${live.data.activeRuns} active runs, ${live.data.liveScopes} live scopes`}
                </span>
              </div>
            )}
            <ErrorText error={probe.error} prefix="Audit failed" />
          </form>
          <div className="panel" style={{ padding: 0 }}>
            <h3 style={{ padding: '6px 10px' }}>Stored audits</h3>
            <ErrorText error={audits.error} />
            <table data-testid="audit-list">
              <thead>
                <tr>
                  <th>when</th>
                  <th>by</th>
                  <th>users × runs</th>
                  <th>verdict</th>
                </tr>
              </thead>
              <tbody>
                {(audits.data?.items ?? []).map((a) => (
                  <tr key={a.id} aria-current={a.id === props.auditId ? 'true' : undefined}>
                    <td className="small nowrap">
                      <a href={routeHref({ page: 'audits', auditId: a.id })}>{formatDateTime(a.createdAt)}</a>
                    </td>
                    <td className="mono">{a.ranBy}</td>
                    <td className="mono small" title={jsonPreview(a.params, 400)}>
                      {probeSize(a.params)}
                    </td>
                    <td>
                      <StatusBadge
                        status={a.violations === 0 ? 'pass' : 'fail'}
                        label={a.violations === 0 ? 'PASS' : `FAIL ${a.violations}`}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {audits.data?.items.length === 0 && <div className="empty">No audits yet.</div>}
          </div>
        </div>
        <div className="stack">
          {probe.data !== undefined && <AuditReport report={readIsolationReport(probe.data)} title="Latest probe" />}
          {props.auditId !== undefined && (
            <>
              <ErrorText error={selected.error} prefix="Could not load the audit" />
              {selected.data !== undefined && (
                <AuditReport report={readIsolationReport(selected.data)} title={`Audit ${props.auditId}`} />
              )}
            </>
          )}
          {probe.data === undefined && props.auditId === undefined && (
            <div className="panel empty">Run a probe, or pick a stored audit to read its report.</div>
          )}
        </div>
      </div>
    </section>
  );
}
