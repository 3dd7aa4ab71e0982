import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_SECRET } from '../../helpers.ts';

const SERVER_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// Kept from the child's output, for the report when something goes wrong.
const MAX_OUTPUT_CHARS = 64 * 1024;

/** A Toolrun server running as a child process (`node --import tsx src/main.ts`). */
export interface ChildServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last 64 KiB of its stdout and stderr (pino JSON lines). */
  output(): string;
  /** Sends `signal` and waits for the exit (bounded; SIGKILL after 15 s). */
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A TCP port that was free a moment ago (the one copy, in `@toolrun/db/test-support`). */
export { freePort } from '@toolrun/db/test-support';

const running = new Set<ChildServer>();

/** SIGKILLs every child server still running: for `afterAll` and `finally`. */
export async function killAllChildServers(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop('SIGKILL')));
}

/**
 * Spawns the server as the README says (`node --import tsx src/main.ts` in `apps/server`) with its
 * configuration in the environment: `PORT`, `HOST=127.0.0.1`, `TOOLRUN_DATA_DIR` and
 * `TOOLRUN_DB_PATH` in `dataDir`, a fixed `TOOLRUN_SECRET` (tokens survive restarts), and waits
 * until `/healthz` answers `ok` (hang guard: `readyTimeoutMs`).
 */
export async function spawnServer(opts: {
  port: number;
  dataDir: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(opts.port),
      HOST: '127.0.0.1',
      TOOLRUN_DATA_DIR: opts.dataDir,
      TOOLRUN_DB_PATH: join(opts.dataDir, 'toolrun.db'),
      TOOLRUN_SECRET: TEST_SECRET,
      TOOLRUN_CONSOLE_DIR: join(opts.dataDir, 'no-console'),
      TOOLRUN_LOG_LEVEL: 'warn',
      TOOLRUN_GRACE_MS: '2000',
      // The golden-path canary's runs would be extra runs in tests that count them; its own tests turn it on.
      TOOLRUN_CANARY_INTERVAL_MS: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-MAX_OUTPUT_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${opts.port}`;
  const server: ChildServer = {
    url,
    process: child,
    exited,
    output: () => output,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  running.add(server);
  void exited.then(() => running.delete(server));
  const until = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the server exited with ${child.exitCode} before it was ready:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return server;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until) {
      await server.stop('SIGKILL');
      throw new Error(`hang guard: the server was not ready within ${opts.readyTimeoutMs ?? 60_000} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
