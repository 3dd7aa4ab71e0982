import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { ChildServer } from '../reliability/support/childServer.ts';

const run = promisify(execFile);

/**
 * Holds `LOCK TABLE <table> IN EXCLUSIVE MODE` in a transaction of a `psql` session of the test's own
 * until `release()`: every process's writes to the table wait (reads go on), e.g. to keep a worker's
 * first commit of a run pending while the run executes. Resolves once the lock is held.
 */
export function holdTableLock(databaseUrl: string, table: string): Promise<{ release(): Promise<void> }> {
  return holdLock(databaseUrl, `LOCK TABLE ${table} IN EXCLUSIVE MODE`);
}

/**
 * Runs `statement` (one that takes locks: `LOCK TABLE …`, `SELECT … FOR UPDATE`) in a transaction of a
 * `psql` session of the test's own and holds its locks until `release()`. Resolves once they are held.
 */
export async function holdLock(databaseUrl: string, statement: string): Promise<{ release(): Promise<void> }> {
  const psql = spawn('psql', ['--no-psqlrc', '--quiet', '--tuples-only', databaseUrl], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => psql.once('exit', () => resolve()));
  const locked = new Promise<void>((resolve, reject) => {
    psql.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('locked')) resolve();
    });
    psql.stderr.on('data', (chunk: Buffer) => reject(new Error(`psql: ${chunk.toString('utf8')}`)));
    psql.once('exit', (code) => reject(new Error(`psql exited (${code}) before the lock was held`)));
  });
  psql.stdin.write(`BEGIN;\n${statement};\nSELECT 'locked';\n`);
  try {
    await locked;
  } catch (error) {
    psql.kill('SIGKILL');
    throw error;
  }
  return {
    async release() {
      psql.stdin.end('COMMIT;\n');
      await exited;
    },
  };
}

/** Runs one `redis-cli` command against the test's Redis on `port`; its output, trimmed. */
export async function redisCommand(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args]);
  return stdout.trim();
}

/** How many of `server`'s log lines (pino JSON) say `msg` about `runId`. */
export function logsAbout(server: ChildServer, runId: string, msg: string): number {
  let count = 0;
  for (const line of server.output().split('\n')) {
    if (!line.includes(runId)) continue;
    try {
      const entry = JSON.parse(line) as { runId?: unknown; msg?: unknown };
      if (entry.runId === runId && entry.msg === msg) count += 1;
    } catch {
      // A line cut by the output's bound.
    }
  }
  return count;
}
