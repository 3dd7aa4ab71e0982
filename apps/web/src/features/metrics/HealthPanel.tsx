import { useQuery } from '@tanstack/react-query';
import { ErrorText } from '../../components/ErrorText.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatMs } from '../../lib/format.ts';

const POLL_MS = 5_000;

/** What the console reads of `GET /healthz` (the server's `HealthReport`). */
interface Health {
  status: 'ok' | 'degraded' | 'failing' | 'shutting_down';
  reasons: { check: string; verdict: string; message: string }[];
  scopeCreateMs: number;
  canary:
    | { enabled: false }
    | {
        enabled: true;
        ok?: boolean;
        at?: string;
        latencyMs?: number;
        consecutiveFailures: number;
        problems: string[];
      };
}

async function fetchHealth(signal: AbortSignal): Promise<Health> {
  // 503 still carries the report: a failing verdict is an answer, not an error.
  const res = await fetch('/healthz', { signal, headers: { accept: 'application/json' } });
  return (await res.json()) as Health;
}

/** The server's health verdict with its reasons and the golden-path canary's last check, polled. */
export function HealthPanel() {
  const health = useQuery({
    queryKey: ['healthz'],
    queryFn: ({ signal }) => fetchHealth(signal),
    refetchInterval: POLL_MS,
    staleTime: 0,
  });
  const h = health.data;
  return (
    <div className="panel" data-testid="health-panel" data-status={h?.status}>
      <header className="row">
        <h3>Health</h3>
        {h !== undefined && <StatusBadge status={h.status} />}
      </header>
      <ErrorText error={health.error} prefix="Could not read /healthz" />
      {h !== undefined && (
        <>
          {h.reasons.length === 0 ? (
            <p>No finding: every check passes.</p>
          ) : (
            <ul data-testid="health-reasons">
              {h.reasons.map((r) => (
                <li key={r.check}>
                  <StatusBadge status={r.verdict} /> <span className="mono">{r.check}</span>: {r.message}
                </li>
              ))}
            </ul>
          )}
          <p data-testid="canary">
            Golden-path canary:{' '}
            {!h.canary.enabled
              ? 'off'
              : h.canary.ok === undefined
                ? 'no check yet'
                : `${h.canary.ok ? 'passed' : `failed ${h.canary.consecutiveFailures}× in a row`} at ${h.canary.at ?? ''}, ${formatMs(h.canary.latencyMs ?? 0)}`}
            {' · '}scope creation {formatMs(h.scopeCreateMs)}
          </p>
        </>
      )}
    </div>
  );
}
