import { useMemo, useSyncExternalStore } from 'react';

/** The console's pages, addressed by the URL hash (`#/live`, `#/runs/<id>` …). */
export type Route =
  | { page: 'identity' }
  | { page: 'live' }
  | { page: 'history'; query: URLSearchParams }
  | { page: 'run'; runId: string }
  | { page: 'audits'; auditId: string | undefined }
  | { page: 'metrics' }
  | { page: 'tools' };

/** The page name of each route, in navigation order. */
export const PAGES = ['live', 'history', 'audits', 'metrics', 'tools', 'identity'] as const;

/**
 * Parses a location hash into a route; anything unknown is the live page.
 *
 * @example
 * parseRoute('#/runs/run_1') // { page: 'run', runId: 'run_1' }
 */
export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const [head = '', ...rest] = path.split('/').filter((part) => part !== '');
  const tail = rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined;
  switch (head) {
    case 'identity':
    case 'metrics':
    case 'tools':
      return { page: head };
    case 'history':
      return { page: 'history', query: new URLSearchParams(search) };
    case 'runs':
      return tail === undefined
        ? { page: 'history', query: new URLSearchParams(search) }
        : { page: 'run', runId: tail };
    case 'audits':
      return { page: 'audits', auditId: tail };
    default:
      return { page: 'live' };
  }
}

/** The hash of a route (the inverse of {@link parseRoute}). */
export function routeHref(route: Route): string {
  switch (route.page) {
    case 'history': {
      const q = route.query.toString();
      return q === '' ? '#/history' : `#/history?${q}`;
    }
    case 'run':
      return `#/runs/${encodeURIComponent(route.runId)}`;
    case 'audits':
      return route.auditId === undefined ? '#/audits' : `#/audits/${encodeURIComponent(route.auditId)}`;
    case 'identity':
    case 'live':
    case 'metrics':
    case 'tools':
      return `#/${route.page}`;
    default: {
      const exhaustive: never = route;
      throw new Error(`unknown route ${JSON.stringify(exhaustive)}`);
    }
  }
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

/** The current route, re-rendering on every hash change. */
export function useHashRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return useMemo(() => parseRoute(hash), [hash]);
}

/** Navigates to a route (adds a history entry). */
export function navigate(route: Route): void {
  window.location.hash = routeHref(route);
}
