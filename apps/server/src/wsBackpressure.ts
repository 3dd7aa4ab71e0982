import type { Duplex } from 'node:stream';
import type { WhenWritable } from '@toolrun/api';
import type { WebSocket } from 'ws';

/** Unsent bytes above which a WebSocket's subscriptions wait before sending their next message. */
export const WS_PAUSE_ABOVE_BYTES = 1024 * 1024;

/**
 * Unsent bytes above which the server gives up on a WebSocket's reader and terminates it. Far above
 * the pause threshold: subscriptions stop at the pause, so only a client that keeps sending
 * requests without reading their answers gets here.
 */
export const WS_TERMINATE_ABOVE_BYTES = 16 * 1024 * 1024;

/** How long a paused connection may go without draining before its reader is taken for stuck. */
export const WS_STALLED_AFTER_MS = 30_000;

/**
 * tRPC's WebSocket adapter sends every message as soon as a procedure produces it, without looking
 * at backpressure. This gives a connection two bounds:
 * - `whenWritable`, handed to the procedures through their context: subscriptions await it before
 *   each message, so while more than `pauseAboveBytes` wait unsent (a slow or stuck reader, or a
 *   long replay outrunning the network) they stop pulling events; the event hub's queue bound then
 *   cuts them off and they resume from the database once the socket drains, at the reader's pace;
 * - a connection that stays paused for `stalledAfterMs` without draining is terminated (its reader
 *   is stuck), and so is one with more than `terminateAboveBytes` unsent (`ws.send` refuses to buffer
 *   more). The client's wsLink reconnects and resumes from its last tracked event id.
 *
 * @example
 * wss.handleUpgrade(req, socket, head, (ws) => { const whenWritable = wsBackpressure(ws, socket); … });
 */
export function wsBackpressure(
  ws: WebSocket,
  socket: Duplex,
  opts: { pauseAboveBytes?: number; terminateAboveBytes?: number; stalledAfterMs?: number } = {},
): WhenWritable {
  const pauseAbove = opts.pauseAboveBytes ?? WS_PAUSE_ABOVE_BYTES;
  const terminateAbove = opts.terminateAboveBytes ?? WS_TERMINATE_ABOVE_BYTES;
  const stalledAfterMs = opts.stalledAfterMs ?? WS_STALLED_AFTER_MS;
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  ws.send = ((...args: unknown[]) => {
    if (ws.bufferedAmount > terminateAbove) {
      ws.terminate();
      return;
    }
    send(...args);
  }) as WebSocket['send'];

  // One wait per connection, shared by all of its subscriptions: one listener pair on the socket.
  let drained: Promise<void> | undefined;
  const whenDrained = (): Promise<void> => {
    drained ??= new Promise<void>((resolve) => {
      const stalled = setTimeout(() => ws.terminate(), stalledAfterMs);
      const done = () => {
        clearTimeout(stalled);
        socket.off('drain', done);
        socket.off('close', done);
        drained = undefined;
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
    return drained;
  };

  return (signal) => {
    if (socket.writableLength <= pauseAbove || socket.destroyed || signal.aborted) return undefined;
    return new Promise<void>((resolve) => {
      const settle = () => {
        signal.removeEventListener('abort', settle);
        resolve();
      };
      signal.addEventListener('abort', settle, { once: true });
      void whenDrained().then(settle);
    });
  };
}
