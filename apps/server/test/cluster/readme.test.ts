import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startRedis, type TestRedis } from '@toolrun/cluster/test-support';
import { startPostgres, type TestPostgres } from '@toolrun/db/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, createClient, login, orderingProblems, within } from '../helpers.ts';
import { freePort } from '../reliability/support/childServer.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const README = `${REPO_ROOT}README.md`;

const cleanups: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The README's "Run a cluster" commands, as pasted. */
function clusterCommands(): string[] {
  const block = /<!-- cluster-commands -->\s*<!--[^\n]*-->\s*```sh\n([\s\S]*?)```/.exec(
    readFileSync(README, 'utf8'),
  )?.[1];
  if (block === undefined) throw new Error('README.md has no cluster-commands block');
  return block.split('\n').filter((line) => line.trim() !== '');
}

describe('the README "Run a cluster" commands', () => {
  it('start two API processes and two workers behind which a typed client starts a run on one and follows it on the other', {
    timeout: 240_000,
  }, async () => {
    const [postgres, redis]: [TestPostgres, TestRedis] = await Promise.all([startPostgres(), startRedis()]);
    cleanups.push(
      () => postgres.stop(),
      () => redis.stop(),
    );
    const databaseUrl = await postgres.createDatabase();
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const readmePorts = ['3000', '3001', '3100', '3101'];
    // Only what differs on this machine changes: the servers' addresses and the ports (others use 3000).
    const script = clusterCommands()
      // The console build is the root docs test's business (pnpm start builds it); not built twice.
      .filter((line) => !line.startsWith('pnpm turbo run build'))
      .map((line) =>
        line
          .replace(/postgres:\/\/toolrun:toolrun@127\.0\.0\.1:5432\/toolrun/, databaseUrl)
          .replace(/redis:\/\/127\.0\.0\.1:6379/, redis.url)
          .replace(/PORT=(\d+)/, (_, port: string) => `PORT=${ports[readmePorts.indexOf(port)]}`),
      );
    expect(script.filter((line) => line.includes('TOOLRUN_ROLE=api'))).toHaveLength(2);
    expect(script.filter((line) => line.includes('TOOLRUN_ROLE=worker'))).toHaveLength(2);
    const child = spawn('bash', ['-c', `${script.join('\n')}\nwait`], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TOOLRUN_LOG_LEVEL: 'warn', TOOLRUN_CANARY_INTERVAL_MS: '0' },
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    cleanups.push(async () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      await within(exited, 30_000, 'the cluster to stop').catch(() => {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      });
    });
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    for (const url of urls) {
      await within(
        (async () => {
          for (;;) {
            try {
              if ((await fetch(`${url}/healthz`)).ok) return;
            } catch {
              // Not listening yet.
            }
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        })(),
        120_000,
        `${url}/healthz (output so far:\n${output})`,
      );
    }
    const [apiA, apiB, worker] = urls;
    if (apiA === undefined || apiB === undefined || worker === undefined) throw new Error('four processes expected');
    expect((await fetch(`${worker}/trpc/auth.me`)).status).toBe(404);
    // A token of API A works on API B: one secret.
    const token = await login(apiA, 'readme-user');
    const a = createClient(apiA, { transport: 'sse', token });
    const b = createClient(apiB, { transport: 'ws', token });
    cleanups.push(a.close, b.close);
    const { runId } = await a.client.runs.start.mutate({ agent: 'calculator', input: { question: 'What is 6*7?' } });
    const followed = collect((callbacks) => b.client.runs.events.subscribe({ runId }, callbacks));
    const events = (await within(followed.done, 60_000, 'following the run on B')).flatMap((m) => m.events);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });
  });
});
