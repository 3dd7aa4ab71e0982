import { createServer } from 'node:net';

/**
 * A TCP port nobody listens on right now: the kernel's pick on loopback (listen on port 0, close).
 * The one copy for every test that starts a server on a port of its own (PostgreSQL, redis-server,
 * `src/main.ts` as a child process).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
