import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Random } from './random.ts';

/** Cuts live event streams under the clients' feet, as a flaky network would. */
export interface StreamCutter {
  /** Destroys one random live SSE or WebSocket connection; false when there is none. */
  cutOne(): boolean;
  /** Cuts one every `everyMs` until {@link StreamCutter.stop}. */
  start(everyMs: number): void;
  stop(): void;
  /** Connections cut so far. */
  readonly cuts: number;
}

/**
 * Watches an in-process server's connections (listening only: the server is not changed) and
 * tracks the sockets that carry an SSE response or a WebSocket, so they alone can be cut: the
 * clients then resume by themselves (tRPC sends the last tracked id on reconnect).
 */
export function createStreamCutter(server: Server, rng: Random): StreamCutter {
  const live = new Set<Socket | Duplex>();
  let cuts = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  server.on('request', (req, res) => {
    if (!String(req.headers.accept ?? '').includes('text/event-stream')) return;
    const socket = req.socket;
    live.add(socket);
    res.once('close', () => live.delete(socket));
  });
  server.on('upgrade', (_req, socket: Duplex) => {
    live.add(socket);
    socket.once('close', () => live.delete(socket));
  });
  const cutOne = () => {
    const sockets = [...live].filter((s) => !s.destroyed);
    if (sockets.length === 0) return false;
    const socket = rng.pick(sockets);
    live.delete(socket);
    socket.destroy();
    cuts += 1;
    return true;
  };
  return {
    cutOne,
    start(everyMs) {
      if (timer !== undefined || everyMs <= 0) return;
      timer = setInterval(cutOne, everyMs);
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
    get cuts() {
      return cuts;
    },
  };
}
