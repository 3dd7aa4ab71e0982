import { startRedis, type TestRedis } from '@toolrun/cluster/test-support';
import type { TestPostgres } from '@toolrun/db/test-support';
import { type RemoteHost, startHost } from '../servers/remote.ts';
import type { DeploymentConfig } from './deployments.ts';
import { type HostEnv, hostEnvVars } from './hostEnv.ts';
import { findProcess, listProcesses, type ProcessGroup } from './procCpu.ts';

/** A server process of a running deployment and its role. */
export interface DeployedHost {
  readonly role: HostEnv['role'];
  readonly host: RemoteHost;
}

/** A deployment, running: its server processes and the PostgreSQL and Redis processes it uses. */
export interface Deployment {
  readonly config: DeploymentConfig;
  /** The processes that serve clients (`api`, or the one `all` process). */
  readonly apis: readonly RemoteHost[];
  /** The processes that execute runs (`worker`, or the one `all` process). */
  readonly runners: readonly RemoteHost[];
  /** Every server process once. */
  readonly hosts: readonly DeployedHost[];
  /** PostgreSQL (postmaster and its backends) and Redis, when the deployment uses them, for their CPU. */
  readonly groups: ReadonlyMap<'postgres' | 'redis', ProcessGroup>;
  /** Its PostgreSQL database (to see what was committed when events are missing); none on SQLite. */
  readonly databaseUrl: string | undefined;
  /** Stops every server process, then Redis (PostgreSQL belongs to the caller). */
  close(): Promise<void>;
}

/** A worker runs every run of a scenario at once (the default, 64, would queue most of 1,000 users' runs). */
const WORKER_CONCURRENCY = 2_000;

/**
 * Starts `config`: a fresh database on `postgres` (the caller's server, shared by the deployments of a
 * run) unless it is SQLite, a fresh redis-server for a cluster, then its server processes side by
 * side (the first to take the migration lock migrates). Each process is a bench host
 * (`cluster/clusterHost.ts`: `startServer` as `main.ts` calls it, plus the bench agent).
 */
export async function startDeployment(opts: {
  config: DeploymentConfig;
  postgres: TestPostgres;
  benchRoot: string;
}): Promise<Deployment> {
  const { config } = opts;
  const databaseUrl = config.database === 'postgres' ? await opts.postgres.createDatabase() : undefined;
  const redis: TestRedis | undefined = config.mode === 'cluster' ? await startRedis() : undefined;
  const started: DeployedHost[] = [];
  const close = async () => {
    await Promise.all(started.map((h) => h.host.close()));
    await redis?.stop();
  };
  try {
    const roles: HostEnv['role'][] =
      config.mode === 'single'
        ? ['all']
        : [...Array<'api'>(config.apis).fill('api'), ...Array<'worker'>(config.workers).fill('worker')];
    const results = await Promise.allSettled(
      roles.map(async (role) => {
        const host = await startHost({
          kind: 'toolrun',
          benchRoot: opts.benchRoot,
          script: 'cluster/clusterHost.ts',
          env: hostEnvVars({ role, databaseUrl, redisUrl: redis?.url, workerConcurrency: WORKER_CONCURRENCY }),
        });
        started.push({ role, host });
        return host;
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const processes = listProcesses();
    const groups = new Map<'postgres' | 'redis', ProcessGroup>();
    if (databaseUrl !== undefined) {
      const port = opts.postgres.port;
      const postmaster = findProcess(processes, (c) => /(^|\/)postgres /.test(c) && c.includes(`-p ${port} `));
      if (postmaster !== undefined) groups.set('postgres', { roots: [postmaster], withChildren: true });
    }
    if (redis !== undefined) {
      const server = findProcess(processes, (c) => c.startsWith('redis-server') && c.includes(`:${redis.port}`));
      if (server !== undefined) groups.set('redis', { roots: [server], withChildren: false });
    }
    const order = (role: HostEnv['role']) => started.filter((h) => h.role === role).map((h) => h.host);
    return {
      config,
      apis: config.mode === 'single' ? order('all') : order('api'),
      runners: config.mode === 'single' ? order('all') : order('worker'),
      hosts: [...started],
      groups,
      databaseUrl,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
