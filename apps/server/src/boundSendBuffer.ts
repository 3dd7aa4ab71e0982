import type { WebSocket } from 'ws';

/** How much a WebSocket may hold unsent before the server gives up on its reader. */
export const MAX_WS_BUFFERED_BYTES = 1024 * 1024;

/**
 * tRPC's WebSocket adapter sends without looking at backpressure, so a client that stops reading
 * would make the server buffer everything its subscriptions produce. This wraps `ws.send`: once
 * more than `maxBufferedBytes` wait unsent, the socket is terminated instead. The client's wsLink
 * reconnects and resumes from its last tracked event id, reading the gap from the database, so
 * nothing is lost or repeated.
 */
export function boundSendBuffer(ws: WebSocket, maxBufferedBytes = MAX_WS_BUFFERED_BYTES): void {
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  ws.send = ((...args: unknown[]) => {
    if (ws.bufferedAmount > maxBufferedBytes) {
      ws.terminate();
      return;
    }
    send(...args);
  }) as WebSocket['send'];
}
