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

/**
 * tRPC's WebSocket adapter sends every message as soon as a procedure produces it, without looking
 * at backpressure. This gives a connection two bounds:
 * - `whenWritable`, handed to the procedures through their context: subscriptions await it before
 *   each message, so while more than `pauseAboveBytes` wait unsent (a slow or stuck reader, or a
 *   long replay outrunning the network) they stop pulling events; the event hub's queue bound then
 *   cuts them off and they resume from the database once the socket drains, at the reader's pace;
 * - past `terminateAboveBytes` unsent, `ws.send` terminates the socket instead of buffering more.
 *   The client's wsLink reconnects and resumes from its last tracked event id.
 *
 * @example
 * wss.handleUpgrade(req, socket, head, (ws) => { const whenWritable = wsBackpressure(ws, socket); … });
 */
export function wsBackpressure(
  ws: WebSocket,
  socket: Duplex,
  opts: { pauseAboveBytes?: number; terminateAboveBytes?: number } = {},
): WhenWritable {
  const pauseAbove = opts.pauseAboveBytes ?? WS_PAUSE_ABOVE_BYTES;
  const terminateAbove = opts.terminateAboveBytes ?? WS_TERMINATE_ABOVE_BYTES;
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
      const done = () => {
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
