import type { AppRouter, RunEvent } from '@toolrun/api';
import { createTRPCClient, createWSClient, httpSubscriptionLink, wsLink } from '@trpc/client';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { epochMs } from '../servers/payload.ts';
import type { ClientReader, StreamUser, TransportName } from '../servers/protocol.ts';
import { subscribeLean } from './leanReaders.ts';

/**
 * A subscription's callbacks; `onMessage` gets the events of one message and, from the lean readers
 * and raw ws, `readAt`: the epoch time its bytes were read, before any parsing.
 */
export interface SubscriptionHandlers {
  onStarted(): void;
  onMessage(events: readonly RunEvent[], readAt?: number): void;
  onError(error: unknown): void;
  onComplete(): void;
}

/** What to subscribe to: one run's events, or the user's feed (idle connections). */
export type SubscriptionTarget = 'run' | 'feed';

/** An open subscription. */
export interface OpenSubscription {
  close(): void;
}

/**
 * Subscribes `user` over `transport`: tRPC `runs.events` (or `runs.feed`) over SSE or WebSocket (one
 * socket per user), or the raw ws baseline (one JSON event per message). tRPC is read by the
 * official client (`reader: 'official'`: `httpSubscriptionLink` with the `eventsource` polyfill,
 * `wsLink` with `ws`) or by a lean reader of the same wire format (`'lean'`, see leanReaders.ts).
 */
export function subscribe(opts: {
  transport: TransportName;
  reader: ClientReader;
  url: string;
  user: StreamUser;
  target: SubscriptionTarget;
  handlers: SubscriptionHandlers;
}): OpenSubscription {
  const { transport, url, user, handlers } = opts;
  if (opts.reader === 'lean' && transport !== 'raw-ws') {
    const protocol = transport === 'trpc-ws' || transport === 'trpc-ws-inline-db' ? 'ws' : 'sse';
    return subscribeLean({ protocol, url, user, target: opts.target, handlers });
  }
  switch (transport) {
    case 'raw-ws': {
      const query = `user=${encodeURIComponent(user.userId)}&token=${encodeURIComponent(user.token)}`;
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/?${query}`);
      socket.on('open', () => handlers.onStarted());
      socket.on('message', (data: Buffer) => {
        const readAt = epochMs();
        handlers.onMessage([JSON.parse(data.toString('utf8')) as RunEvent], readAt);
      });
      socket.on('error', (error) => handlers.onError(error));
      socket.on('close', () => handlers.onComplete());
      return { close: () => socket.terminate() };
    }
    case 'trpc-ws':
    case 'trpc-ws-inline-db': {
      const wsClient = createWSClient({
        url: `${url.replace(/^http/, 'ws')}/trpc`,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
        connectionParams: { token: user.token },
        retryDelayMs: () => 500,
      });
      const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
      const sub = subscribeTrpc(client, user, opts.target, handlers);
      return {
        close: () => {
          sub.unsubscribe();
          void wsClient.close();
        },
      };
    }
    case 'trpc-sse':
    case 'trpc-sse-stock': {
      const client = createTRPCClient<AppRouter>({
        links: [httpSubscriptionLink({ url: `${url}/trpc`, EventSource, connectionParams: { token: user.token } })],
      });
      const sub = subscribeTrpc(client, user, opts.target, handlers);
      return { close: () => sub.unsubscribe() };
    }
    default: {
      const never: never = transport;
      throw new Error(`unknown transport ${String(never)}`);
    }
  }
}

function subscribeTrpc(
  client: ReturnType<typeof createTRPCClient<AppRouter>>,
  user: StreamUser,
  target: SubscriptionTarget,
  handlers: SubscriptionHandlers,
): { unsubscribe(): void } {
  const observer = {
    onStarted: () => handlers.onStarted(),
    onData: (message: { id: string; data: RunEvent[] }) => handlers.onMessage(message.data),
    onError: (error: unknown) => handlers.onError(error),
    onComplete: () => handlers.onComplete(),
  };
  return target === 'run'
    ? client.runs.events.subscribe({ runId: user.runId }, observer)
    : client.runs.feed.subscribe({}, observer);
}
