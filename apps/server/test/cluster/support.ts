import { startRedis, type TestRedis } from '@toolrun/cluster/test-support';
import { startPostgres, type TestPostgres } from '@toolrun/db/test-support';
import { tempDir } from '../helpers.ts';
import { type ChildServer, freePort, killAllChildServers, spawnServer } from '../reliability/support/childServer.ts';

/** API and worker processes on one PostgreSQL and one Redis, each a real `node src/main.ts`. */
export interface TestCluster {
  readonly postgres: TestPostgres;
  readonly redis: TestRedis;
  readonly databaseUrl: string;
  readonly apis: ChildServer[];
  readonly workers: ChildServer[];
  /** Starts one more process of `role` on the same PostgreSQL and Redis. */
  spawn(role: 'api' | 'worker' | 'all', env?: Record<string, string>): Promise<ChildServer>;
  /** Kills every process, then PostgreSQL and Redis, and removes the folders. */
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL and redis-server on free ports, then `apis` API processes and `workers` worker
 * processes (`TOOLRUN_ROLE`), all with the same secret so a token of one is valid on every other.
 * `env` is added to every process's environment.
 */
export async function startTestCluster(opts: {
  apis: number;
  workers: number;
  env?: Record<string, string>;
}): Promise<TestCluster> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const dirs: { remove: () => void }[] = [];
  let databaseUrl: string;
  try {
    databaseUrl = await postgres.createDatabase();
  } catch (error) {
    postgres.stop();
    await redis.stop();
    throw error;
  }
  const spawn = async (role: 'api' | 'worker' | 'all', env: Record<string, string> = {}): Promise<ChildServer> => {
    const dir = tempDir();
    dirs.push(dir);
    return spawnServer({
      port: await freePort(),
      dataDir: dir.dir,
      env: {
        TOOLRUN_DATABASE_URL: databaseUrl,
        TOOLRUN_REDIS_URL: redis.url,
        TOOLRUN_ROLE: role,
        ...opts.env,
        ...env,
      },
    });
  };
  const stop = async (): Promise<void> => {
    await killAllChildServers();
    postgres.stop();
    await redis.stop();
    for (const dir of dirs) dir.remove();
  };
  try {
    // Side by side: the first to take the migration lock migrates, the others wait for it.
    const started = await Promise.all([
      ...Array.from({ length: opts.apis }, () => spawn('api')),
      ...Array.from({ length: opts.workers }, () => spawn('worker')),
    ]);
    return {
      postgres,
      redis,
      databaseUrl,
      apis: started.slice(0, opts.apis),
      workers: started.slice(opts.apis),
      spawn,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
