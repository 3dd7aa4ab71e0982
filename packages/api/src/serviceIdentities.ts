/**
 * The golden-path canary's service identity: its runs go through the same path as a user's, and are
 * its own, so no user sees them; admins' all-users views leave them out too (the canary's figures are
 * in `/healthz` and `/metrics`, not in run listings).
 */
export const CANARY_USER_ID = 'toolrun-canary';

/** Identities whose runs the all-users views (`runs.list` with `scope: 'all'`, `runs.feed` with `scope: 'all'`) leave out. */
export const SERVICE_USER_IDS: readonly string[] = [CANARY_USER_ID];

const hidden: ReadonlySet<string> = new Set(SERVICE_USER_IDS);

/** Whether `userId` is a service identity, kept out of all-users views. */
export function isServiceIdentity(userId: string): boolean {
  return hidden.has(userId);
}
