import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorText } from '../../components/ErrorText.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatMs, jsonPretty } from '../../lib/format.ts';
import { useSession } from '../../lib/session.ts';
import { isAdminIdentity } from '../../lib/sessionStore.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ToolSwitch } from './ToolSwitch.tsx';
import { TryToolForm } from './TryToolForm.tsx';

/**
 * The tool registry as the caller may use it (the server leaves out admin tools for non-admins);
 * "Try it" runs one tool directly, as a one-call run with its live timeline.
 */
export function ToolsPage() {
  const trpc = useTRPC();
  const { session } = useSession();
  const tools = useQuery(trpc.tools.list.queryOptions());
  const agents = useQuery(trpc.agents.list.queryOptions());
  const [trying, setTrying] = useState<string | undefined>();
  const tried = (tools.data ?? []).find((t) => t.name === trying);
  return (
    <section className="stack" aria-labelledby="tools-title">
      <div className="page-head">
        <h2 id="tools-title">Tools</h2>
        <p>
          {isAdminIdentity(session.identity)
            ? 'Every tool, admin tools included.'
            : 'The tools you may call; admin tools are shown to admins only.'}
        </p>
      </div>
      <ErrorText error={tools.error} prefix="Could not load tools" />
      {tried !== undefined && <TryToolForm key={tried.name} tool={tried} />}
      <div className="panel" style={{ padding: 0 }}>
        <table data-testid="tools-table">
          <thead>
            <tr>
              <th>tool</th>
              <th>access</th>
              <th className="num">timeout</th>
              <th>state</th>
              <th>description and input schema</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(tools.data ?? []).map((t) => (
              <tr key={t.name} data-testid="tool-row" data-tool={t.name} data-access={t.access}>
                <td className="mono">
                  <b>{t.name}</b>
                </td>
                <td>
                  <StatusBadge status={t.access} />
                </td>
                <td className="num">{formatMs(t.timeoutMs)}</td>
                <td>
                  <ToolSwitch tool={t} admin={isAdminIdentity(session.identity)} />
                </td>
                <td>
                  <details>
                    <summary>{t.description}</summary>
                    <pre>{jsonPretty(t.inputSchema)}</pre>
                  </details>
                </td>
                <td>
                  <button
                    type="button"
                    onClick={() => setTrying(t.name)}
                    aria-label={`Try ${t.name}`}
                    style={{ whiteSpace: 'nowrap' }}
                  >
                    Try it
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {tools.isPending && <div className="empty">Loading…</div>}
      </div>
      <h3>Agents</h3>
      <ErrorText error={agents.error} prefix="Could not load agents" />
      <div className="panel" style={{ padding: 0 }}>
        <table>
          <tbody>
            {(agents.data ?? []).map((a) => (
              <tr key={a.name}>
                <td className="mono">
                  <b>{a.name}</b>
                </td>
                <td>
                  <StatusBadge status={a.access} />
                </td>
                <td>
                  <details>
                    <summary>{a.description}</summary>
                    <pre>{jsonPretty(a.inputSchema)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
