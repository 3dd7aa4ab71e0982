import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@toolrun/db/test-support';

/** A throwaway redis-server started by {@link startRedis}. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: everything in memory is gone) and waits for its exit. */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port (after {@link TestRedis.kill}). */
  restart(): Promise<void>;
  /** Kills the server and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a private redis-server for a test file: `redis-server --port <free> --save '' --appendonly no`
 * in a new temporary folder, bound to loopback, and waits until it answers `PING`. It never connects to
 * or changes a server it did not start. `scripts/setup.sh` installs Debian's `redis-server`.
 *
 * @example
 * const redis = await startRedis();
 * // … TOOLRUN_REDIS_URL = redis.url …
 * await redis.stop();
 */
export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'toolrun-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stopped = false;
  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
    const spawned = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_192);
    };
    spawned.stdout?.on('data', keep);
    spawned.stderr?.on('data', keep);
    child = spawned;
    const failed = new Promise<never>((_, reject) => {
      spawned.once('error', (error) =>
        reject(new Error(`redis-server did not start (${error.message}): run \`bash scripts/setup.sh\``)),
      );
      spawned.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
    });
    failed.catch(() => {});
    await Promise.race([waitForPong(port), failed]);
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: launch,
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the server on `port` answers `PING` (bounded: 20 s). */
async function waitForPong(port: number): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    if (await pong(port)) return;
    if (Date.now() > until) throw new Error(`redis-server on port ${port} did not answer PING within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
