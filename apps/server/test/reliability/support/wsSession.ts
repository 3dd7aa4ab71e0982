import type { RunEvent } from '@toolrun/api';
import WebSocket from 'ws';

/** One subscription on a {@link WsSession}: its events and its error, by the id the test gave it. */
export interface WsSubscription {
  readonly events: RunEvent[];
  error: { code?: string | undefined; reason?: string | undefined; message?: string | undefined } | undefined;
  started: boolean;
}

/** A raw tRPC WebSocket connection carrying many subscriptions, as a client that opens them by the hundred would. */
export interface WsSession {
  /**
   * Starts subscription `id` and resolves once the server answered it with data or an error: pass an
   * input that has history to replay (a `lastEventId`), so an accepted subscription answers at once.
   */
  subscribe(id: number, path: 'runs.feed' | 'runs.events', input: Record<string, unknown>): Promise<WsSubscription>;
  readonly subscriptions: Map<number, WsSubscription>;
  /** An error the server sent for the connection itself (id `null`), e.g. a refused connection. */
  connectionError():
    | { code?: string | undefined; reason?: string | undefined; message?: string | undefined }
    | undefined;
  readonly closed: Promise<void>;
  close(): void;
}

interface ErrorShape {
  message?: string;
  data?: { code?: string; reason?: string };
}

/** Opens `/trpc` with `{ token }` as connection params; resolves once the socket is open. */
export function openWsSession(baseUrl: string, token: string): Promise<WsSession> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
    const subscriptions = new Map<number, WsSubscription>();
    const answered = new Map<number, () => void>();
    let connectionError: WsSubscription['error'];
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    void closed.then(() => {
      for (const done of answered.values()) done();
    });
    const toError = (e: ErrorShape) => ({ code: e.data?.code, reason: e.data?.reason, message: e.message });
    ws.on('message', (raw) => {
      const text = String(raw);
      if (text === 'PING') {
        ws.send('PONG');
        return;
      }
      const message = JSON.parse(text) as {
        id: number | null;
        error?: ErrorShape;
        result?: { type: string; data?: { data: RunEvent[] } };
      };
      if (message.id === null) {
        if (message.error !== undefined) connectionError = toError(message.error);
        for (const done of answered.values()) done();
        return;
      }
      const sub = subscriptions.get(message.id);
      if (sub === undefined) return;
      if (message.error !== undefined) sub.error = toError(message.error);
      else if (message.result?.type === 'started') sub.started = true;
      else if (message.result?.type === 'data' && message.result.data !== undefined)
        sub.events.push(...message.result.data.data);
      if (message.error !== undefined || sub.events.length > 0) answered.get(message.id)?.();
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      resolve({
        subscriptions,
        closed,
        connectionError: () => connectionError,
        subscribe(id, path, input) {
          const sub: WsSubscription = { events: [], error: undefined, started: false };
          subscriptions.set(id, sub);
          return new Promise((done) => {
            answered.set(id, () => {
              answered.delete(id);
              done(sub);
            });
            ws.send(JSON.stringify({ id, method: 'subscription', params: { path, input } }));
          });
        },
        close: () => ws.terminate(),
      });
    });
  });
}
