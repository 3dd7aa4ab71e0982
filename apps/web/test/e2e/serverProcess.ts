import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The server as a child process (`node --import tsx src/main.ts`), so a test can stop it for real. */
export interface ServerProcess {
  readonly url: string;
  /** Stops it: `SIGKILL` (a crash) or `SIGTERM` (graceful shutdown); resolves when it has exited. */
  stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** What it wrote to stderr (for failure messages). */
  readonly stderr: () => string;
}

/** A free loopback port, found by binding port 0 and letting it go. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Spawns the server's own entry point with `env` (PORT, TOOLRUN_DATA_DIR, …) and waits for
 * `/healthz`. The server package is found through its package name, not a path.
 */
export async function spawnServer(
  env: Record<string, string>,
  opts: { signal?: AbortSignal } = {},
): Promise<ServerProcess> {
  const serverSrc = dirname(fileURLToPath(import.meta.resolve('@toolrun/server')));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: dirname(serverSrc),
    // No golden-path canary: its runs would show in the admin's all-users views under test.
    env: { ...process.env, TOOLRUN_LOG_LEVEL: 'warn', TOOLRUN_CANARY_INTERVAL_MS: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    opts.signal?.throwIfAborted();
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become healthy: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    stderr: () => stderr,
  };
}
