import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRun } from '@toolrun/api';
import { startServer } from '@toolrun/server';
import { benchStreamAgent, openAllGates } from '../servers/benchStreamAgent.ts';
import { serveHost } from '../servers/hostRuntime.ts';
import type { StreamUser } from '../servers/protocol.ts';
import { serverHostHandlers } from '../servers/serverHostHandlers.ts';
import { hostEnv } from './hostEnv.ts';

/**
 * One process of a benchmarked deployment, in its own OS process: `startServer` as
 * `apps/server/src/main.ts` calls it for `TOOLRUN_ROLE` (`all`, `api` or `worker`), plus the bench
 * agent (`extraAgents`, which `main.ts` cannot load). Its configuration comes from `BENCH_*`
 * variables (see hostEnv.ts): role, SQLite or a PostgreSQL URL, Redis for cluster mode, worker
 * concurrency. Driven by the parent over IPC like the transport benchmark's hosts: an API (or `all`)
 * process prepares users and starts their runs through the same path as `runs.start`; `go` opens
 * every gate the runs of this process wait at (a worker's runs, or an `all` process's).
 */
const env = hostEnv(process.env);
const dir = mkdtempSync(join(tmpdir(), `toolrun-bench-${env.role}-`));
const server = await startServer({
  database: env.databaseUrl ?? join(dir, 'toolrun.db'),
  dataDir: dir,
  // The same secret in every process: a token minted by one API process is valid on all of them.
  auth: { mode: 'dev', secret: 'toolrun-bench-secret-0123456789abcdef' },
  consoleDir: join(dir, 'no-console'),
  extraAgents: [benchStreamAgent],
  graceMs: 1_000,
  ...(env.redisUrl === undefined
    ? {}
    : { cluster: { role: env.role, redisUrl: env.redisUrl, workerConcurrency: env.workerConcurrency } }),
});
const { services } = server;

/** Starts at most this many runs at once while preparing (setup is not measured, but should not take minutes). */
const START_CONCURRENCY = 32;
/** How long the runs of a scenario may take to start on the workers. */
const START_TIMEOUT_MS = 120_000;

function userOf(userId: string) {
  return services.auth.issue({ userId, roles: ['user'] });
}

serveHost({
  async prepare(request) {
    if (env.role === 'worker') return { type: 'prepared', id: request.id, users: [] };
    const users: StreamUser[] = new Array(request.users);
    let next = 0;
    const startOne = async (): Promise<void> => {
      while (next < request.users) {
        const i = next++;
        const userId = `${request.prefix}${i}`;
        const { token, principal } = await userOf(userId);
        const started = await startRun(services, principal, {
          agent: benchStreamAgent.name,
          input: {
            // Every run of a scenario waits at a gate until `go`; the name only has to be fresh.
            gate: request.prefix,
            count: request.plan.perRun,
            burst: request.plan.burst,
            ...(request.plan.ratePerRun === undefined ? {} : { ratePerSec: request.plan.ratePerRun }),
          },
        });
        users[i] = { userId, token, runId: started.runId };
      }
    };
    await Promise.all(Array.from({ length: START_CONCURRENCY }, startOne));
    // Every agent_started is committed before a client asks for its run's history (in cluster mode a
    // worker takes each run from the queue): the clients read it from the database, so "ready" means
    // every run is executing, waiting at its gate, whatever the live path's timing (see BENCHMARKS.md).
    await services.sink.flush();
    const started = async (user: StreamUser) => (await services.db.getRunRecord(user.runId)) !== undefined;
    const until = Date.now() + START_TIMEOUT_MS;
    let waiting = users;
    while (waiting.length > 0) {
      const pending = await Promise.all(waiting.map(async (u) => ((await started(u)) ? undefined : u)));
      waiting = pending.filter((u): u is StreamUser => u !== undefined);
      if (waiting.length === 0) break;
      if (Date.now() > until)
        throw new Error(`${waiting.length} of ${users.length} runs did not start within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { type: 'prepared', id: request.id, users };
  },
  go(request) {
    const at = performance.timeOrigin + performance.now();
    openAllGates();
    return { type: 'went', id: request.id, at };
  },
  ...serverHostHandlers(server, dir),
});

process.send?.({ type: 'listening', url: server.url, pid: process.pid });
