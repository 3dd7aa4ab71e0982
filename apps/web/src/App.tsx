import { QueryClientProvider } from '@tanstack/react-query';
import { lazy, type ReactNode, Suspense, useCallback, useMemo, useState } from 'react';
import { ConnectionIndicator } from './components/ConnectionIndicator.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { StatusBadge } from './components/StatusBadge.tsx';
import { ApprovalsBadge } from './features/approvals/ApprovalsBadge.tsx';
import { AuditsPage } from './features/audits/AuditsPage.tsx';
import { HistoryPage } from './features/history/HistoryPage.tsx';
import { RunDetailPage } from './features/history/RunDetailPage.tsx';
import { IdentityPage } from './features/identity/IdentityPage.tsx';
import { LivePage } from './features/live/LivePage.tsx';
import { ToolsPage } from './features/tools/ToolsPage.tsx';
import { PAGES, type Route, routeHref, useHashRoute } from './lib/hashRoute.ts';
import { type SessionApi, SessionContext, sessionFor } from './lib/session.ts';
import {
  type Identity,
  isAdminIdentity,
  loadIdentity,
  loadTransport,
  saveIdentity,
  saveTransport,
  type Transport,
} from './lib/sessionStore.ts';
import { TRPCProvider } from './lib/trpc.ts';

// uPlot only loads with the metrics page.
const MetricsPage = lazy(() => import('./features/metrics/MetricsPage.tsx').then((m) => ({ default: m.MetricsPage })));

const TITLES: Record<(typeof PAGES)[number], string> = {
  live: 'Live',
  history: 'History',
  audits: 'Audits',
  metrics: 'Metrics',
  tools: 'Tools',
  identity: 'Identity',
};

function navPage(route: Route): (typeof PAGES)[number] {
  return route.page === 'run' ? 'history' : route.page;
}

/** The console: header (navigation, identity, transport, connection), then the page of the URL hash. */
export function App() {
  const [identity, setIdentity] = useState<Identity | undefined>(loadIdentity);
  const [transport, setTransportState] = useState<Transport>(loadTransport);
  const session = sessionFor(identity, transport);
  const route = useHashRoute();

  const signIn = useCallback((next: Identity) => {
    saveIdentity(next);
    setIdentity(next);
  }, []);
  const signOut = useCallback(() => {
    saveIdentity(undefined);
    setIdentity(undefined);
  }, []);
  const setTransport = useCallback((next: Transport) => {
    saveTransport(next);
    setTransportState(next);
  }, []);
  const api = useMemo<SessionApi>(
    () => ({ session, signIn, signOut, setTransport }),
    [session, signIn, signOut, setTransport],
  );

  return (
    <SessionContext.Provider value={api}>
      <QueryClientProvider client={session.queryClient}>
        <TRPCProvider trpcClient={session.client} queryClient={session.queryClient}>
          <div className="app">
            <header className="topbar">
              <span className="brand">
                Toolrun<small>console</small>
              </span>
              <nav className="nav" aria-label="Pages">
                {PAGES.map((page) => (
                  <a
                    key={page}
                    href={routeHref(
                      page === 'history'
                        ? { page, query: new URLSearchParams() }
                        : page === 'audits'
                          ? { page, auditId: undefined }
                          : { page },
                    )}
                    aria-current={navPage(route) === page ? 'page' : undefined}
                  >
                    {TITLES[page]}
                  </a>
                ))}
              </nav>
              <span className="spacer" />
              <ApprovalsBadge />
              <ConnectionIndicator />
              <label className="inline">
                transport
                <select
                  value={transport}
                  onChange={(e) => setTransport(e.target.value === 'ws' ? 'ws' : 'sse')}
                  aria-label="Subscription transport"
                >
                  <option value="sse">SSE</option>
                  <option value="ws">WebSocket</option>
                </select>
              </label>
              <span className="whoami" data-testid="whoami" title="The identity of this tab">
                {identity === undefined ? (
                  <a href="#/identity">not signed in</a>
                ) : (
                  <>
                    <span title="signed in as">{identity.userId}</span>
                    <StatusBadge status={isAdminIdentity(identity) ? 'admin' : 'user'} />
                  </>
                )}
              </span>
            </header>
            <main>
              <ErrorBoundary resetKey={routeHref(route)}>
                <Suspense fallback={<p className="muted">Loading…</p>}>
                  {identity === undefined && route.page !== 'identity' ? <IdentityPage /> : <Page route={route} />}
                </Suspense>
              </ErrorBoundary>
            </main>
          </div>
        </TRPCProvider>
      </QueryClientProvider>
    </SessionContext.Provider>
  );
}

function Page(props: { route: Route }): ReactNode {
  const { route } = props;
  switch (route.page) {
    case 'identity':
      return <IdentityPage />;
    case 'live':
      return <LivePage />;
    case 'history':
      return <HistoryPage query={route.query} />;
    case 'run':
      return <RunDetailPage runId={route.runId} />;
    case 'audits':
      return <AuditsPage auditId={route.auditId} />;
    case 'metrics':
      return <MetricsPage />;
    case 'tools':
      return <ToolsPage />;
    default: {
      const exhaustive: never = route;
      throw new Error(`unknown page ${JSON.stringify(exhaustive)}`);
    }
  }
}
