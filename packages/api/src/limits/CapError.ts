/** The caps on what one account or one connection may hold open; each is `TOO_MANY_REQUESTS` when reached. */
export const CAP_CODES = {
  /** Open subscriptions of one user, over every transport. */
  SUBSCRIPTIONS_PER_USER: 'SUBSCRIPTIONS_PER_USER',
  /** Open subscriptions on one WebSocket connection. */
  SUBSCRIPTIONS_PER_CONNECTION: 'SUBSCRIPTIONS_PER_CONNECTION',
  /** Concurrent SSE streams of one user. */
  SSE_STREAMS_PER_USER: 'SSE_STREAMS_PER_USER',
  /** Open WebSocket connections of one user. */
  WS_CONNECTIONS_PER_USER: 'WS_CONNECTIONS_PER_USER',
} as const;
export type CapCode = keyof typeof CAP_CODES;

/**
 * A new subscription or connection refused because its owner holds as many as a cap allows. What
 * is already open is untouched; the message says which cap and what to do.
 */
export class CapError extends Error {
  override readonly name = 'CapError';
  readonly code: CapCode;

  constructor(code: CapCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Whether `value` is a {@link CapError}. */
export function isCapError(value: unknown): value is CapError {
  return value instanceof CapError;
}
