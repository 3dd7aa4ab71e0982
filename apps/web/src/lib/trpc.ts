import type { AppRouter } from '@toolrun/api';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  wsLink,
} from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { Transport } from './sessionStore.ts';

/** The React binding: `TRPCProvider` around the app, `useTRPC()` for typed query/mutation options. */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** The typed vanilla client (used by the live-run store, outside React). */
export type ConsoleClient = TRPCClient<AppRouter>;

/** State of the WebSocket when that transport is chosen. */
export type SocketState = 'idle' | 'connecting' | 'open' | 'closed';

/** Options of {@link createConsoleClient}. */
export interface ConsoleClientOptions {
  /** The token of the tab's identity, read at each request (so it is never stale). */
  token: () => string | undefined;
  transport: Transport;
  /** Origin of the server; defaults to the page's own (`vite dev` proxies `/trpc`). */
  origin?: string;
  /** WebSocket state changes, for the header's connection indicator. */
  onSocketState?: (state: SocketState) => void;
}

/**
 * Creates the tRPC client of one identity: queries and mutations over `httpBatchLink`;
 * subscriptions over SSE (`httpSubscriptionLink`, the browser's `EventSource`) or, when the user
 * picks it, one WebSocket (`wsLink`). The token goes in the `Authorization` header and in the
 * connection params (SSE cannot set headers; the WebSocket sends them as its first message).
 *
 * @returns the client and `close()`, which closes the WebSocket if there is one.
 */
export function createConsoleClient(opts: ConsoleClientOptions): { client: ConsoleClient; close(): void } {
  const origin = opts.origin ?? globalThis.location.origin;
  const url = `${origin}/trpc`;
  const headers = (): Record<string, string> => {
    const token = opts.token();
    return token === undefined ? {} : { authorization: `Bearer ${token}` };
  };
  const connectionParams = (): Record<string, string> => {
    const token = opts.token();
    return token === undefined ? {} : { token };
  };
  const queries = httpBatchLink<AppRouter>({ url, headers });

  if (opts.transport === 'ws') {
    const wsClient = createWSClient({
      url: url.replace(/^http/, 'ws'),
      connectionParams,
      // Reconnect fast at first, then back off to 3 s while the server is down.
      retryDelayMs: (attempt) => Math.min(3_000, 250 * 2 ** attempt),
      keepAlive: { enabled: true, intervalMs: 5_000, pongTimeoutMs: 3_000 },
      onOpen: () => opts.onSocketState?.('open'),
      onClose: () => opts.onSocketState?.('closed'),
    });
    opts.onSocketState?.('connecting');
    const client = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: wsLink({ client: wsClient }),
          false: queries,
        }),
      ],
    });
    return { client, close: () => void wsClient.close() };
  }

  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink<AppRouter, typeof EventSource>({ url, connectionParams }),
        false: queries,
      }),
    ],
  });
  opts.onSocketState?.('idle');
  return { client, close: () => undefined };
}
