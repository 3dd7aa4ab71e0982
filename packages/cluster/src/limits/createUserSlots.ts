import type { Redis } from 'ioredis';
import type { ClusterKeys } from '../redis/keys.ts';

// KEYS[1] the user's slots; ARGV: run id, limit, ttl ms. Expired slots go first; a run holding one renews it.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl * 2)
  return 1
end
return 0`;

// KEYS[1] the user's slots; ARGV: ttl ms, then the run ids held here. Only slots still held are renewed.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return 1`;

// KEYS[1] the user's slots: the slots in use now (expired ones do not count).
const IN_USE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`;

/** The cluster-wide per-user limit on concurrent runs; see {@link createUserSlots}. */
export interface UserSlots {
  /** Takes one of `userId`'s `limit` slots for `runId`; false when all are taken (try again later). */
  acquire(userId: string, runId: string, limit: number): Promise<boolean>;
  release(userId: string, runId: string): Promise<void>;
  /** Slots of `userId` in use right now, across the cluster. */
  inUse(userId: string): Promise<number>;
  /** Stops renewing (the slots then expire by themselves). */
  close(): void;
}

/**
 * A lease-based semaphore per user in Redis: a sorted set of run ids scored by their lease's expiry on
 * Redis's clock. Taking a slot (one Lua script, atomic) first drops expired slots; the worker holding
 * slots renews them every third of `ttlMs`, so the slots of a worker that died free themselves within
 * `ttlMs` and none leaks.
 */
export function createUserSlots(opts: { redis: Redis; keys: ClusterKeys; ttlMs: number }): UserSlots {
  const { redis, keys, ttlMs } = opts;
  const held = new Map<string, Set<string>>();
  const timer = setInterval(
    () => {
      for (const [userId, runs] of held) {
        if (runs.size === 0) continue;
        redis.eval(RENEW, 1, keys.userSlots(userId), ttlMs, ...runs).catch(() => {});
      }
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    async acquire(userId, runId, limit) {
      const taken = (await redis.eval(ACQUIRE, 1, keys.userSlots(userId), runId, limit, ttlMs)) === 1;
      if (taken) {
        let runs = held.get(userId);
        if (runs === undefined) {
          runs = new Set();
          held.set(userId, runs);
        }
        runs.add(runId);
      }
      return taken;
    },
    async release(userId, runId) {
      const runs = held.get(userId);
      runs?.delete(runId);
      if (runs?.size === 0) held.delete(userId);
      await redis.zrem(keys.userSlots(userId), runId).catch(() => {});
    },
    async inUse(userId) {
      return Number(await redis.eval(IN_USE, 1, keys.userSlots(userId)));
    },
    close() {
      clearInterval(timer);
    },
  };
}
