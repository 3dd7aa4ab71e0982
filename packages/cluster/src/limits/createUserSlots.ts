import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ClusterKeys } from '../redis/keys.ts';

// KEYS[1] the user's slots; ARGV: the hold's id, limit, ttl ms. Expired slots go first.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl * 2)
  return 1
end
return 0`;

// KEYS[1] the user's slots; ARGV: ttl ms, then the ids of the holds here. Only slots still held are renewed.
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

/** One slot taken: its run's until released (or until its holder dies and its lease expires). */
export interface UserSlot {
  /** Frees this slot, and only this one. Idempotent. */
  release(): Promise<void>;
}

/** The cluster-wide per-user limit on concurrent runs; see {@link createUserSlots}. */
export interface UserSlots {
  /** Takes one of `userId`'s `limit` slots for `runId`; undefined when all are taken (try again later). */
  acquire(userId: string, runId: string, limit: number): Promise<UserSlot | undefined>;
  /** Slots of `userId` in use right now, across the cluster. */
  inUse(userId: string): Promise<number>;
  /** Stops renewing (the slots then expire by themselves). */
  close(): void;
}

/**
 * A lease-based semaphore per user in Redis: a sorted set of holds scored by their lease's expiry on
 * Redis's clock. Taking a slot (one Lua script, atomic) first drops expired slots; the worker holding
 * slots renews them every third of `ttlMs`, so the slots of a worker that died free themselves within
 * `ttlMs` and none leaks. Each acquisition is a hold of its own (the run id and a random suffix): when
 * two workers were offered the same run and one lost the take, its release frees its own slot, never
 * the winner's.
 */
export function createUserSlots(opts: { redis: Redis; keys: ClusterKeys; ttlMs: number }): UserSlots {
  const { redis, keys, ttlMs } = opts;
  // Per user, the ids of the holds this process renews.
  const held = new Map<string, Set<string>>();
  const timer = setInterval(
    () => {
      for (const [userId, holds] of held) {
        if (holds.size === 0) continue;
        redis.eval(RENEW, 1, keys.userSlots(userId), ttlMs, ...holds).catch(() => {});
      }
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    async acquire(userId, runId, limit) {
      const hold = `${runId}:${randomUUID()}`;
      const taken = (await redis.eval(ACQUIRE, 1, keys.userSlots(userId), hold, limit, ttlMs)) === 1;
      if (!taken) return undefined;
      let holds = held.get(userId);
      if (holds === undefined) {
        holds = new Set();
        held.set(userId, holds);
      }
      holds.add(hold);
      return {
        async release() {
          const mine = held.get(userId);
          mine?.delete(hold);
          if (mine?.size === 0) held.delete(userId);
          await redis.zrem(keys.userSlots(userId), hold).catch(() => {});
        },
      };
    },
    async inUse(userId) {
      return Number(await redis.eval(IN_USE, 1, keys.userSlots(userId)));
    },
    close() {
      clearInterval(timer);
    },
  };
}
