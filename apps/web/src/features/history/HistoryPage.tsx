import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorText } from '../../components/ErrorText.tsx';
import { Spinner } from '../../components/Spinner.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatDateTime, formatMs } from '../../lib/format.ts';
import { navigate, routeHref } from '../../lib/hashRoute.ts';
import { useSession } from '../../lib/session.ts';
import { isAdminIdentity } from '../../lib/sessionStore.ts';
import { useTRPC } from '../../lib/trpc.ts';
import type { RunRecordStatus, RunsListInput } from '../../lib/types.ts';
import { DEMO_USERS } from '../identity/IdentityPage.tsx';

const STATUSES = [
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
] as const satisfies readonly RunRecordStatus[];
const PAGE_SIZE = 50;
/** The admin's user filter value meaning every user's runs. */
const ALL_USERS = '*';

function isStatus(value: string | null): value is (typeof STATUSES)[number] {
  return STATUSES.some((s) => s === value);
}

/**
 * The caller's runs (an admin can pick any user), newest first, filtered by status and agent,
 * paged by cursor. Filters live in the URL hash so a view can be linked.
 */
export function HistoryPage(props: { query: URLSearchParams }) {
  const trpc = useTRPC();
  const { session } = useSession();
  const admin = isAdminIdentity(session.identity);
  const status = props.query.get('status');
  const agent = props.query.get('agent') ?? '';
  const user = admin ? (props.query.get('user') ?? '') : '';
  const filterKey = `${status}|${agent}|${user}`;
  const [paging, setPaging] = useState<{ key: string; cursors: (string | undefined)[] }>({
    key: filterKey,
    cursors: [undefined],
  });
  // A new filter starts at the first page.
  const cursors = paging.key === filterKey ? paging.cursors : [undefined];
  const setCursors = (update: (c: (string | undefined)[]) => (string | undefined)[]) =>
    setPaging({ key: filterKey, cursors: update(cursors) });
  const cursor = cursors.at(-1);

  const input: RunsListInput = { limit: PAGE_SIZE };
  if (cursor !== undefined) input.cursor = cursor;
  if (isStatus(status)) input.status = status;
  if (agent !== '') input.agent = agent;
  if (user === ALL_USERS) input.scope = 'all';
  else if (user !== '') input.userId = user;
  const runs = useQuery({ ...trpc.runs.list.queryOptions(input), placeholderData: keepPreviousData });
  const agents = useQuery(trpc.agents.list.queryOptions());

  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(props.query);
    if (value === '') next.delete(key);
    else next.set(key, value);
    navigate({ page: 'history', query: next });
  };
  const items = runs.data?.items ?? [];

  return (
    <section className="stack" aria-labelledby="history-title">
      <div className="page-head">
        <h2 id="history-title">History</h2>
        <p>{admin ? 'Runs of any user (pick one), newest first.' : 'Your runs, newest first.'}</p>
      </div>
      <div className="panel row">
        <label>
          Status
          <select value={isStatus(status) ? status : ''} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent
          <select value={agent} onChange={(e) => setFilter('agent', e.target.value)}>
            <option value="">any</option>
            {(agents.data ?? []).map((a) => (
              <option key={a.name} value={a.name}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
        {admin && (
          <label>
            User (admin)
            <input
              list="history-users"
              defaultValue={user}
              placeholder="yours; * for all users"
              onKeyDown={(e) => {
                if (e.key === 'Enter') setFilter('user', e.currentTarget.value.trim());
              }}
              onBlur={(e) => setFilter('user', e.currentTarget.value.trim())}
              key={user}
              name="user"
            />
            <datalist id="history-users">
              <option value={ALL_USERS}>all users</option>
              {DEMO_USERS.map((u) => (
                <option key={u} value={u} />
              ))}
            </datalist>
          </label>
        )}
        <span className="spacer" />
        {runs.isFetching && <Spinner label="loading runs" />}
        <button type="button" onClick={() => setCursors((c) => c.slice(0, -1))} disabled={cursors.length <= 1}>
          ← Newer
        </button>
        <span className="muted small">page {cursors.length}</span>
        <button
          type="button"
          onClick={() => {
            const next = runs.data?.nextCursor;
            if (next != null) setCursors((c) => [...c, next]);
          }}
          disabled={runs.data?.nextCursor == null}
        >
          Older →
        </button>
      </div>
      <ErrorText error={runs.error} prefix="Could not load runs" />
      <div className="panel" style={{ padding: 0 }}>
        <table data-testid="history-table">
          <thead>
            <tr>
              <th>run</th>
              <th>agent</th>
              <th>user</th>
              <th>status</th>
              <th>started</th>
              <th className="num">duration</th>
              <th className="num">tool calls</th>
              <th className="num">events</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id} data-testid="history-row" data-run-id={r.id}>
                <td className="mono small">
                  <a href={routeHref({ page: 'run', runId: r.id })}>{r.id}</a>
                </td>
                <td>{r.agent}</td>
                <td className="mono">{r.userId}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td className="small">{formatDateTime(r.startedAt)}</td>
                <td className="num">{formatMs(r.durationMs)}</td>
                <td className="num">{r.toolCalls}</td>
                <td className="num">{r.lastSeq}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {items.length === 0 && !runs.isPending && <div className="empty">No runs match.</div>}
        {runs.isPending && <div className="empty">Loading…</div>}
      </div>
    </section>
  );
}
