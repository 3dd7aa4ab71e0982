import { z } from 'zod';

/** How a bench host process of a deployment is configured (see clusterHost.ts). */
export interface HostEnv {
  /** `TOOLRUN_ROLE`: everything in one process, or one role of a cluster. */
  role: 'all' | 'api' | 'worker';
  /** PostgreSQL; SQLite in the host's temp folder when absent. */
  databaseUrl?: string | undefined;
  /** Cluster mode (with a PostgreSQL URL); single mode when absent. */
  redisUrl?: string | undefined;
  /** `TOOLRUN_WORKER_CONCURRENCY`: runs a worker executes at once (the default, 64, is below a scenario's). */
  workerConcurrency: number;
}

const schema = z.object({
  BENCH_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  BENCH_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//)
    .optional(),
  BENCH_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//)
    .optional(),
  BENCH_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(2_000),
});

/** Reads a host's configuration from its environment; throws on a bad value (the host then fails to start). */
export function hostEnv(env: Readonly<Record<string, string | undefined>>): HostEnv {
  const parsed = schema.parse(env);
  if (parsed.BENCH_ROLE !== 'all' && parsed.BENCH_REDIS_URL === undefined) {
    throw new Error(`role ${parsed.BENCH_ROLE} needs BENCH_REDIS_URL (cluster mode)`);
  }
  if (parsed.BENCH_REDIS_URL !== undefined && parsed.BENCH_DATABASE_URL === undefined) {
    throw new Error('cluster mode needs BENCH_DATABASE_URL (PostgreSQL)');
  }
  return {
    role: parsed.BENCH_ROLE,
    databaseUrl: parsed.BENCH_DATABASE_URL,
    redisUrl: parsed.BENCH_REDIS_URL,
    workerConcurrency: parsed.BENCH_WORKER_CONCURRENCY,
  };
}

/** The environment that {@link hostEnv} reads back as `config`. */
export function hostEnvVars(config: HostEnv): Record<string, string> {
  return {
    BENCH_ROLE: config.role,
    ...(config.databaseUrl === undefined ? {} : { BENCH_DATABASE_URL: config.databaseUrl }),
    ...(config.redisUrl === undefined ? {} : { BENCH_REDIS_URL: config.redisUrl }),
    BENCH_WORKER_CONCURRENCY: String(config.workerConcurrency),
  };
}
