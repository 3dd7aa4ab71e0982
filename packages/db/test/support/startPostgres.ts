import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './freePort.ts';

/** A throwaway PostgreSQL server started by {@link startPostgres}. */
export interface TestPostgres {
  /** `postgres://toolrun@127.0.0.1:<port>/postgres`: the maintenance database. */
  readonly url: string;
  readonly port: number;
  /** Creates an empty database and returns its URL (`name` defaults to a fresh unique one). */
  createDatabase(name?: string): Promise<string>;
  /**
   * Restarts the server on the same port and folder (fast shutdown: every session is cut, as a real
   * restart does), running `whileDown` while it is stopped. Resolves once it accepts connections again.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops the server (immediate mode) and removes its folder. Idempotent. */
  stop(): void;
}

let databases = 0;

/**
 * Starts a private PostgreSQL server for a test file: `initdb` into a new temporary folder, then
 * `pg_ctl start` on a free loopback port with its socket in that folder, `fsync` off (tests kill
 * servers, not machines). As root it runs as the `postgres` OS user (initdb refuses root), in a
 * folder that user owns. It never connects to or changes a server it did not start.
 *
 * @example
 * const server = await startPostgres();
 * const url = await server.createDatabase();
 * // … openStorage({ location: url }) …
 * server.stop();
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'toolrun-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]): void => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]]
      : [join(bin, cmd), args];
    const result = spawnSync(file, argv, { encoding: 'utf8', cwd: dir });
    if (result.status !== 0) throw new Error(`${cmd} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  if (asRoot) {
    const pgUser = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const pgGroup = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(pgUser), Number(pgGroup));
  }
  const data = join(dir, 'data');
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (existsSync(join(data, 'postmaster.pid'))) {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone: nothing to stop.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-U', 'toolrun', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
    run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    const url = `postgres://toolrun@127.0.0.1:${port}/postgres`;
    return {
      url,
      port,
      async restart(whileDown) {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        try {
          await whileDown?.();
        } finally {
          run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
        }
      },
      async createDatabase(name) {
        databases += 1;
        const db = name ?? `t_${process.pid}_${databases}_${Math.random().toString(36).slice(2, 8)}`;
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE "${db}"`);
        } finally {
          await client.end();
        }
        return `postgres://toolrun@127.0.0.1:${port}/${db}`;
      },
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}

/** The newest installed PostgreSQL's `bin` folder (Debian's layout), or `pg_config --bindir`. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('PostgreSQL is not installed: run `bash scripts/setup.sh` (it installs Debian’s postgresql)');
  }
}
