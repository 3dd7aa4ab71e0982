import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@toolrun/server';
import { benchStreamAgent, openGate } from './benchStreamAgent.ts';
import { serveHost } from './hostRuntime.ts';
import type { StreamUser } from './protocol.ts';
import { serverHostHandlers } from './serverHostHandlers.ts';

/**
 * A real Toolrun server for the transport benchmarks, in its own process: `startServer` on
 * 127.0.0.1:0 with a temp data dir and SQLite file, the bench agent registered through
 * `extraAgents`, the SSE writer `BENCH_SSE_WRITER` names (`lean`, the default, or `trpc`) and the
 * database writer `BENCH_DB_WRITER` names (`thread`, the default, or `inline`).
 * Driven by the parent over IPC (see protocol.ts).
 */
const dir = mkdtempSync(join(tmpdir(), 'toolrun-bench-server-'));
const server = await startServer({
  // `BENCH_DATABASE_URL` (a postgres:// URL) runs the same server on PostgreSQL.
  database: process.env.BENCH_DATABASE_URL ?? join(dir, 'toolrun.db'),
  dataDir: dir,
  auth: { mode: 'dev', secret: 'toolrun-bench-secret-0123456789abcdef' },
  consoleDir: join(dir, 'no-console'),
  extraAgents: [benchStreamAgent],
  graceMs: 1_000,
  // The SSE writer under test: the server's lean one (its default) or tRPC's own.
  sse: process.env.BENCH_SSE_WRITER === 'trpc' ? 'trpc' : 'lean',
  // Where SQLite commits: the database's writer thread (the default) or the event loop.
  databaseWriter: process.env.BENCH_DB_WRITER === 'inline' ? 'inline' : 'thread',
});
const { services } = server;

async function tokenFor(userId: string): Promise<string> {
  return (await services.auth.issue({ userId, roles: ['user'] })).token;
}

let gate = '';

serveHost({
  async prepare(request) {
    gate = `g${request.id}`;
    const users: StreamUser[] = [];
    for (let i = 0; i < request.users; i += 1) {
      const userId = `${request.prefix}${i}`;
      const context = services.factory.createContext({ userId, roles: ['user'] });
      const handle = services.factory.startRun({
        context,
        agent: benchStreamAgent.name,
        input: {
          gate,
          count: request.plan.perRun,
          burst: request.plan.burst,
          ...(request.plan.ratePerRun === undefined ? {} : { ratePerSec: request.plan.ratePerRun }),
        },
      });
      users.push({ userId, token: await tokenFor(userId), runId: handle.runId });
    }
    // Every agent_started is committed before a client asks for the run's history.
    await services.sink.flush();
    return { type: 'prepared', id: request.id, users };
  },
  go(request) {
    const at = performance.timeOrigin + performance.now();
    openGate(gate);
    return { type: 'went', id: request.id, at };
  },
  ...serverHostHandlers(server, dir),
});

process.send?.({ type: 'listening', url: server.url, pid: process.pid });
