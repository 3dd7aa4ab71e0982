import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import type { Random } from './random.ts';
import type { StreamCutter } from './streamCutter.ts';

/** A TCP proxy in front of one server process that cuts live event streams, as a flaky network would. */
export interface CuttingProxy extends StreamCutter {
  /** `http://127.0.0.1:<proxy port>`: give this to the clients instead of the server's own URL. */
  readonly url: string;
  /** Connections forwarded so far. */
  readonly connections: number;
  /** Stops cutting, destroys every connection and stops listening. */
  close(): Promise<void>;
}

// A request that opens an event stream says so in its head: SSE asks for it, a WebSocket upgrades.
const STREAMING = /accept:[^\r\n]*text\/event-stream|upgrade:\s*websocket/i;

/**
 * Listens on a free loopback port and forwards each connection to `target` (`127.0.0.1:<port>`) byte
 * for byte (node:net, no HTTP parsing). The in-process cutter (`createStreamCutter`) cannot reach a
 * server in another process, so this one cuts on the wire: a connection that has carried an SSE
 * request or a WebSocket upgrade (seen in the bytes the client sent) may be cut, both halves destroyed
 * at once; the server sees its socket close, the client a dropped stream it resumes from its last
 * tracked id. Plain calls on other connections are left alone.
 */
export async function startCuttingProxy(targetPort: number, rng: Random): Promise<CuttingProxy> {
  const live = new Set<{ client: Socket; upstream: Socket }>();
  const streaming = new Set<{ client: Socket; upstream: Socket }>();
  let cuts = 0;
  let connections = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect({ port: targetPort, host: '127.0.0.1' });
    const pair = { client, upstream };
    live.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      // The head of a request fits its first packet on loopback; a later request on a kept-alive connection is seen too.
      if (!streaming.has(pair) && STREAMING.test(chunk.toString('latin1', 0, Math.min(chunk.length, 4_096))))
        streaming.add(pair);
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      live.delete(pair);
      streaming.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', end);
    upstream.once('close', end);
    // A reset on either side ends the pair (the close handler does it); nothing to report.
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const cutOne = (): boolean => {
    const pairs = [...streaming].filter((p) => !p.client.destroyed);
    if (pairs.length === 0) return false;
    const pair = rng.pick(pairs);
    streaming.delete(pair);
    live.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
    cuts += 1;
    return true;
  };
  const stop = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    cutOne,
    start(everyMs) {
      if (timer !== undefined || everyMs <= 0) return;
      timer = setInterval(cutOne, everyMs);
    },
    stop,
    get cuts() {
      return cuts;
    },
    get connections() {
      return connections;
    },
    async close() {
      stop();
      for (const pair of live) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      live.clear();
      streaming.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
