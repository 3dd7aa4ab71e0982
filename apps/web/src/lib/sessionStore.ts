/**
 * The signed-in identity and the chosen transport, kept per browser tab in `sessionStorage`,
 * so two tabs can be two different users. Nothing here is a secret beyond the dev token.
 */

/** Subscriptions go over SSE (`EventSource`) by default, or over one WebSocket. */
export type Transport = 'sse' | 'ws';

/** Who this tab is signed in as. */
export interface Identity {
  token: string;
  userId: string;
  roles: readonly string[];
}

const IDENTITY_KEY = 'toolrun.identity';
const TRANSPORT_KEY = 'toolrun.transport';

function storage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    // Storage can be disabled (privacy settings); the console then forgets on reload.
    return undefined;
  }
}

function isIdentity(value: unknown): value is Identity {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.token === 'string' &&
    typeof v.userId === 'string' &&
    Array.isArray(v.roles) &&
    v.roles.every((r) => typeof r === 'string')
  );
}

/** The tab's identity, or `undefined` when signed out or the stored value is unreadable. */
export function loadIdentity(): Identity | undefined {
  const raw = storage()?.getItem(IDENTITY_KEY);
  if (raw == null) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isIdentity(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Stores (or, with `undefined`, forgets) the tab's identity. */
export function saveIdentity(identity: Identity | undefined): void {
  const s = storage();
  if (identity === undefined) s?.removeItem(IDENTITY_KEY);
  else s?.setItem(IDENTITY_KEY, JSON.stringify(identity));
}

/** The tab's transport for subscriptions; SSE unless WebSocket was chosen. */
export function loadTransport(): Transport {
  return storage()?.getItem(TRANSPORT_KEY) === 'ws' ? 'ws' : 'sse';
}

/** Stores the tab's transport choice. */
export function saveTransport(transport: Transport): void {
  storage()?.setItem(TRANSPORT_KEY, transport);
}

/** Whether the identity carries the admin role. */
export function isAdminIdentity(identity: Identity | undefined): boolean {
  return identity?.roles.includes('admin') ?? false;
}
