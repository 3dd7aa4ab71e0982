/**
 * The HTTP server's security settings (`TOOLRUN_ALLOWED_HOSTS`, `TOOLRUN_MAX_CONNECTIONS`, …); every
 * field has a safe default in {@link DEFAULT_SECURITY}. Subscription caps live with the services
 * (`subscriptionCaps`), where subscriptions are counted.
 */
export interface SecurityOptions {
  /** More `Host` names than the loopback ones and `HOST` (see `createHostGuard`). */
  readonly allowedHosts: readonly string[];
  /** More browser origins than the server's own. */
  readonly allowedOrigins: readonly string[];
  /** Open WebSocket connections per user. */
  readonly maxWsConnectionsPerUser: number;
  /** Open TCP connections in total; past it new ones are dropped at once. */
  readonly maxConnections: number;
  /** How long a client may take to send a request's headers (node:http `headersTimeout`). */
  readonly headersTimeoutMs: number;
  /** How long a client may take to send a whole request, body included (`requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (`keepAliveTimeout`). */
  readonly keepAliveTimeoutMs: number;
}

/** Safe as shipped: loopback only, caps well above what the console and a busy integration use. */
export const DEFAULT_SECURITY: SecurityOptions = {
  allowedHosts: [],
  allowedOrigins: [],
  maxWsConnectionsPerUser: 100,
  maxConnections: 10_000,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
};
