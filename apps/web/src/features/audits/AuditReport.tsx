import { formatDateTime, formatMs } from '../../lib/format.ts';
import { routeHref } from '../../lib/hashRoute.ts';
import type { IsolationReportView } from './readIsolationReport.ts';

function runOf(eventId: string): string {
  const colon = eventId.lastIndexOf(':');
  return colon > 0 ? eventId.slice(0, colon) : eventId;
}

function EventLink(props: { eventId: string }) {
  return (
    <a className="mono" href={routeHref({ page: 'run', runId: runOf(props.eventId) })}>
      {props.eventId}
    </a>
  );
}

/** One report: a clear PASS or FAIL, the figures, and on failure the offending events. */
export function AuditReport(props: { report: IsolationReportView; title?: string }) {
  const r = props.report;
  const figures: [string, number | string, boolean][] = [
    ['cross-user deliveries', r.crossUserDeliveries.length, r.crossUserDeliveries.length > 0],
    ['missing deliveries', r.missingDeliveries.length, r.missingDeliveries.length > 0],
    ['leaked scopes', r.leakedScopes, r.leakedScopes > 0],
    ['shared contexts', r.sharedContexts, r.sharedContexts > 0],
    ['contract violations', r.contractViolations, r.contractViolations > 0],
    [
      'live scopes before → after',
      `${r.liveScopesBefore} → ${r.liveScopesAfter}`,
      r.liveScopesAfter > r.liveScopesBefore,
    ],
  ];
  return (
    <div className="panel stack" data-testid="audit-report" data-verdict={r.passed ? 'pass' : 'fail'}>
      <header className="row">
        <span className={`verdict ${r.passed ? 'pass' : 'fail'}`} role="status">
          {r.passed ? '✔ PASS' : '✘ FAIL'}
        </span>
        <div className="stack" style={{ gap: 0 }}>
          {props.title !== undefined && <strong>{props.title}</strong>}
          <span className="muted">
            {r.passed
              ? 'No event crossed users; every scope was disposed.'
              : `${r.violations} violation${r.violations === 1 ? '' : 's'}: see below.`}
          </span>
        </div>
      </header>
      <div className="figures">
        <div className="figure">
          <b>
            {r.users} × {r.runsPerUser}
          </b>
          <span>users × runs</span>
        </div>
        <div className="figure">
          <b>{r.runs}</b>
          <span>runs</span>
        </div>
        <div className="figure">
          <b>{r.events}</b>
          <span>events</span>
        </div>
        <div className="figure">
          <b>{r.deliveries}</b>
          <span>deliveries</span>
        </div>
        <div className="figure">
          <b>{formatMs(r.durationMs)}</b>
          <span>{formatDateTime(r.startedAt)}</span>
        </div>
      </div>
      <table>
        <tbody>
          {figures.map(([label, value, bad]) => (
            <tr key={label}>
              <td>{label}</td>
              <td className="num mono" style={{ color: bad ? 'var(--err)' : 'var(--ok)', fontWeight: 600 }}>
                {value}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.crossUserDeliveries.length > 0 && (
        <div>
          <h3 style={{ color: 'var(--err)' }}>Events delivered to another user</h3>
          <table data-testid="cross-user-deliveries">
            <thead>
              <tr>
                <th>event</th>
                <th>owner</th>
                <th>delivered to</th>
              </tr>
            </thead>
            <tbody>
              {r.crossUserDeliveries.slice(0, 500).map((d) => (
                <tr key={`${d.eventId}>${d.recipientUserId}`}>
                  <td>
                    <EventLink eventId={d.eventId} />
                  </td>
                  <td className="mono">{d.ownerUserId}</td>
                  <td className="mono" style={{ color: 'var(--err)' }}>
                    {d.recipientUserId}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {r.missingDeliveries.length > 0 && (
        <div>
          <h3 style={{ color: 'var(--err)' }}>Events their owner never received</h3>
          <table>
            <thead>
              <tr>
                <th>event</th>
                <th>owner</th>
              </tr>
            </thead>
            <tbody>
              {r.missingDeliveries.slice(0, 500).map((d) => (
                <tr key={`${d.eventId}>${d.userId}`}>
                  <td>
                    <EventLink eventId={d.eventId} />
                  </td>
                  <td className="mono">{d.userId}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
