import { Redis } from 'ioredis';
import type { ClusterLogger } from '../ClusterLogger.ts';

/** Options of {@link connectRedis}. */
export interface ConnectRedisOptions {
  /** `redis://[:password@]host:port[/db]`. */
  readonly url: string;
  /** The connection's name (`CLIENT SETNAME`), e.g. `toolrun-tailer`: shows in `CLIENT LIST`. */
  readonly name: string;
  readonly logger: ClusterLogger;
  /**
   * Whether commands wait for a reconnect (true, BullMQ's and the tailer's need) or fail at once while
   * Redis is down (false: the live path's publishes, whose events PostgreSQL already holds).
   */
  readonly queueWhileDown?: boolean;
}

/**
 * One ioredis connection as the cluster uses them: `maxRetriesPerRequest: null` (BullMQ requires it),
 * reconnecting forever with a capped back-off, its errors logged once per outage instead of thrown (a
 * Redis outage costs latency, never a crash).
 */
export function connectRedis(opts: ConnectRedisOptions): Redis {
  const redis = new Redis(opts.url, {
    connectionName: opts.name,
    maxRetriesPerRequest: null,
    enableOfflineQueue: opts.queueWhileDown ?? true,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
  });
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    opts.logger.warn({ err: error, connection: opts.name }, 'redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    opts.logger.info({ connection: opts.name }, 'redis connection back');
  });
  return redis;
}

/** Resolves once `redis` is connected; rejects after `timeoutMs` with a message naming the URL's host. */
export function whenReady(redis: Redis, timeoutMs = 15_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      const { host, port } = redis.options;
      reject(new Error(`redis at ${host}:${port} did not answer within ${timeoutMs} ms (TOOLRUN_REDIS_URL)`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
