import type { Redis } from 'ioredis';
import type { ClusterKeys } from '../redis/keys.ts';

/** A run executing on some worker, as the registry shows it. */
export interface RegisteredRun {
  readonly runId: string;
  readonly userId: string;
  readonly agent: string;
  readonly startedAt: string;
  readonly workerId: string;
}

/** Options of {@link createRunRegistry}. */
export interface RunRegistryOptions {
  readonly redis: Redis;
  readonly keys: ClusterKeys;
  /** This process's id in the registry (the worker's own hash). */
  readonly workerId: string;
  /** How long a worker's entries outlive its last heartbeat; default 15 s. Heartbeats every third of it. */
  readonly ttlMs?: number;
}

/**
 * The runs executing across the cluster: one Redis hash per worker (run id -> run), whose TTL the
 * worker renews while it lives, so a dead worker's runs leave the registry by themselves, and one key
 * per run (its worker's id, same TTL) so that `has` is one lookup, not a scan of every key. Admin run
 * control reads the hashes, `runs.cancel`'s answer the run's key, from any process.
 */
export function createRunRegistry(opts: RunRegistryOptions): {
  add(run: Omit<RegisteredRun, 'workerId'>): Promise<void>;
  remove(runId: string): Promise<void>;
  /** Every registered run of every live worker. */
  all(): Promise<RegisteredRun[]>;
  has(runId: string): Promise<boolean>;
  close(): Promise<void>;
} {
  const { redis, keys, workerId } = opts;
  const ttlMs = opts.ttlMs ?? 15_000;
  const key = keys.workerRuns(workerId);
  const local = new Map<string, string>();
  const renew = (): Promise<unknown> => {
    if (local.size === 0) return Promise.resolve();
    const multi = redis.multi().hset(key, Object.fromEntries(local)).pexpire(key, ttlMs);
    for (const runId of local.keys()) multi.set(keys.runWorker(runId), workerId, 'PX', ttlMs);
    return multi.exec().catch(() => {});
  };
  const timer = setInterval(() => void renew(), ttlMs / 3);
  timer.unref();

  const all = async (): Promise<RegisteredRun[]> => {
    const out: RegisteredRun[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', keys.workerRunsPattern, 'COUNT', 100);
      cursor = next;
      for (const hash of found) {
        const worker = hash.slice(keys.workerRuns('').length);
        for (const value of Object.values(await redis.hgetall(hash))) {
          out.push({ ...(JSON.parse(value) as Omit<RegisteredRun, 'workerId'>), workerId: worker });
        }
      }
    } while (cursor !== '0');
    return out;
  };

  return {
    async add(run) {
      local.set(run.runId, JSON.stringify(run));
      await redis
        .multi()
        .hset(key, run.runId, JSON.stringify(run))
        .pexpire(key, ttlMs)
        .set(keys.runWorker(run.runId), workerId, 'PX', ttlMs)
        .exec()
        .catch(() => {});
    },
    async remove(runId) {
      local.delete(runId);
      await redis
        .multi()
        .hdel(key, runId)
        .del(keys.runWorker(runId))
        .exec()
        .catch(() => {});
    },
    all,
    async has(runId) {
      return (await redis.exists(keys.runWorker(runId))) === 1;
    },
    async close() {
      clearInterval(timer);
      await redis.del(key, ...[...local.keys()].map((runId) => keys.runWorker(runId))).catch(() => {});
    },
  };
}
