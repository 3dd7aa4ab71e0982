import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy in front of the server whose connections the test can cut, like a network drop. */
export interface DropProxy {
  /** `http://127.0.0.1:<port>`: what the browser opens instead of the server. */
  readonly url: string;
  /** Cuts every open connection and refuses new ones for `ms`. */
  drop(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a loopback TCP proxy to `targetPort`. Browsers give no way to cut one established
 * EventSource or WebSocket connection (offline emulation leaves loopback streams open), so the
 * tests put this between Chromium and the real server and reset the sockets themselves.
 */
export async function startDropProxy(targetPort: number): Promise<DropProxy> {
  const open = new Set<Socket>();
  let refuseUntil = 0;
  const server = createServer((client) => {
    if (Date.now() < refuseUntil) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const forget = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    drop: async (ms) => {
      refuseUntil = Date.now() + ms;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
