import type { AppRouter } from '@toolrun/api';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import { EventSource } from 'eventsource';

/** The typed client of the CLI. */
export type CliClient = TRPCClient<AppRouter>;

/**
 * The typed tRPC client the CLI talks through: queries and mutations over HTTP (`httpBatchLink`),
 * subscriptions over SSE (`httpSubscriptionLink` with the `eventsource` polyfill, which reconnects
 * after a drop; tRPC then resumes from the last tracked event id).
 */
export function createCliClient(opts: { url: string; token: string | undefined }): CliClient {
  const url = `${opts.url.replace(/\/+$/, '')}/trpc`;
  const token = opts.token;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource,
          ...(token === undefined ? {} : { connectionParams: { token } }),
        }),
        false: httpBatchLink({
          url,
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        }),
      }),
    ],
  });
}
