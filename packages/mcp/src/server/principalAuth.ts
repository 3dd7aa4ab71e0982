import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Principal } from '@toolrun/api';

/**
 * A verified principal as the SDK's `AuthInfo`, which the transport hands to every request handler
 * as `extra.authInfo`: the user id as `clientId`, the roles as `scopes`, the principal itself in `extra`.
 */
export function toAuthInfo(principal: Principal, expiresAtMs: number | null): AuthInfo {
  return {
    // No handler needs the token, and a client's token must never be passed on (MCP spec): not kept.
    token: '[REDACTED]',
    clientId: principal.userId,
    scopes: [...principal.roles],
    ...(expiresAtMs === null ? {} : { expiresAt: Math.floor(expiresAtMs / 1000) }),
    extra: { principal },
  };
}

/** The principal {@link toAuthInfo} put in; undefined for anything else. */
export function principalOf(authInfo: unknown): Principal | undefined {
  if (typeof authInfo !== 'object' || authInfo === null) return undefined;
  const extra = (authInfo as { extra?: unknown }).extra;
  if (typeof extra !== 'object' || extra === null) return undefined;
  const principal = (extra as { principal?: unknown }).principal;
  if (typeof principal !== 'object' || principal === null) return undefined;
  const { userId, roles } = principal as { userId?: unknown; roles?: unknown };
  if (typeof userId !== 'string' || !Array.isArray(roles)) return undefined;
  return principal as Principal;
}
