import type { RateLimiter, TokenBucketLimits } from '@toolrun/dispatcher';
import type { Redis } from 'ioredis';
import type { ClusterLogger } from '../ClusterLogger.ts';
import type { ClusterKeys } from '../redis/keys.ts';

// KEYS: one bucket hash per user (`level`, `at` in ms on Redis's clock). ARGV: capacity, refill per
// second and tokens spent, three per key. Each bucket refills by the time elapsed on Redis's clock (up
// to its capacity), is charged what one process spent since its last sync (down to any debt: a
// negative level that refill pays back), and expires once it would be full again (an expired bucket
// and a full one are the same). Returns the new levels, as text: a Lua number would lose its fraction.
const SYNC = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local levels = {}
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[i * 3 - 2])
  local rate = tonumber(ARGV[i * 3 - 1])
  local spent = tonumber(ARGV[i * 3])
  local state = redis.call('HMGET', KEYS[i], 'level', 'at')
  local level = tonumber(state[1])
  local at = tonumber(state[2])
  if level == nil or at == nil then
    level = capacity
    at = now
  end
  if now > at and level < capacity then level = math.min(capacity, level + (now - at) * rate / 1000) end
  level = level - spent
  redis.call('HSET', KEYS[i], 'level', level, 'at', now)
  redis.call('PEXPIRE', KEYS[i], math.max(1, math.ceil((capacity - level) * 1000 / rate)) + 1000)
  levels[i] = tostring(level)
end
return levels`;

/** Users per script call: a sync of many users is cut into calls of this many keys. */
const USERS_PER_CALL = 256;

/** How often, at most, the mirrors that would be full again are forgotten (a pass over all of them). */
const FORGET_EVERY_MS = 1_000;

/** Options of {@link createSharedRateLimit}. */
export interface SharedRateLimitOptions {
  /** A connection of its own is best (`queueWhileDown: false`): a sync never waits behind a backlog. */
  readonly redis: Redis;
  readonly keys: ClusterKeys;
  readonly logger: ClusterLogger;
  /** How long after a take its spend is reported to Redis; default 100 ms. The burst bound scales with it. */
  readonly syncIntervalMs?: number;
  /** A sync that has not answered after this long counts as failed (Redis unreachable); default 1 s. */
  readonly syncTimeoutMs?: number;
  /** The clock of the `now` that `take` gets: the dispatcher's monotonic clock (default `performance.now()`). */
  readonly monotonic?: () => number;
}

/** The cluster-wide rate limit; see {@link createSharedRateLimit}. */
export interface SharedRateLimit extends RateLimiter {
  /** Reports the spends made so far and takes the shared levels back now, instead of at the next sync. */
  sync(): Promise<void>;
  /** Users whose bucket this process mirrors (a user whose mirror would be full again is forgotten). */
  mirrored(): number;
  /** Reports the last spends (best effort, bounded by the sync timeout) and stops syncing. */
  close(): Promise<void>;
}

/** This process's view of one user's shared bucket. */
interface Mirror {
  /** Tokens at `at`: the shared level at the last sync, less what was spent here since, plus refill. */
  level: number;
  at: number;
  limits: TokenBucketLimits;
  /** Spent here and not yet reported to Redis. */
  unsent: number;
}

/**
 * The per-user rate limit shared by every process of a cluster, in Redis, without putting Redis on the
 * dispatch path: `take` is synchronous and decides from this process's mirror of the user's shared
 * bucket, spending from it at once; a sync every `syncIntervalMs` (one round trip for every user who
 * spent meanwhile) charges those spends to the shared bucket in one Lua script, which refills it by the
 * time elapsed on Redis's clock and allows debt, and returns the new level: the mirror becomes that level
 * less what was spent here while the sync was under way, and refills locally at the configured rate until
 * the next sync. A user this process has not mirrored yet starts full here (their first take cannot wait
 * for Redis).
 *
 * The guarantee: every token spent anywhere is charged to one shared bucket that refills at the
 * configured rate, so over any window of T seconds the cluster admits at most capacity + rate × T plus
 * a bounded excess, and the long-run rate is exactly the limit, whatever the number of processes. What
 * is bounded is a burst: a process spends from a mirror that has not seen the other processes' spends
 * since its last sync, so a burst can exceed the capacity by what the others spent within one sync
 * interval while the user is active here, and by up to a capacity per process on the first burst of a
 * user this process had not seen (or had forgotten, being full). The excess is debt, repaid by refill
 * before that user is admitted again.
 *
 * If Redis is unreachable, each process keeps limiting alone with its mirror as a local bucket (logged
 * once per outage; spends made meanwhile are not charged afterwards) and syncs again once Redis is back.
 * `take` never throws and never waits.
 */
export function createSharedRateLimit(opts: SharedRateLimitOptions): SharedRateLimit {
  const { redis, keys, logger } = opts;
  const intervalMs = opts.syncIntervalMs ?? 100;
  const timeoutMs = opts.syncTimeoutMs ?? 1_000;
  const monotonic = opts.monotonic ?? (() => performance.now());
  const mirrors = new Map<string, Mirror>();
  // Users with spends to report, in the order they spent.
  const dirty = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let syncing: Promise<void> | undefined;
  let closed = false;
  let down = false;
  let forgotAt = Number.NEGATIVE_INFINITY;

  const refill = (mirror: Mirror, now: number): void => {
    const { capacity, refillPerSecond } = mirror.limits;
    if (now > mirror.at && mirror.level < capacity) {
      mirror.level = Math.min(capacity, mirror.level + ((now - mirror.at) / 1000) * refillPerSecond);
    }
    if (now > mirror.at) mirror.at = now;
  };

  const schedule = (): void => {
    if (timer !== undefined || syncing !== undefined || closed || dirty.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void sync();
    }, intervalMs);
    timer.unref();
  };

  const fellBack = (error: unknown): void => {
    if (down) return;
    down = true;
    logger.warn({ err: error }, 'rate limit: redis unreachable; each process limits its users alone until it is back');
  };

  // Charges `spent[i]` to `users[i]`'s shared bucket, one round trip, and takes the new levels; never rejects.
  const charge = async (users: readonly string[], spent: readonly number[]): Promise<void> => {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    try {
      const calls: Promise<unknown>[] = [];
      for (let from = 0; from < users.length; from += USERS_PER_CALL) {
        const batch = users.slice(from, from + USERS_PER_CALL);
        const args: number[] = [];
        for (let i = 0; i < batch.length; i += 1) {
          const limits = mirrors.get(batch[i] as string)?.limits;
          args.push(limits?.capacity ?? 0, limits?.refillPerSecond ?? 1, spent[from + i] ?? 0);
        }
        calls.push(redis.eval(SYNC, batch.length, ...batch.map((userId) => keys.userRate(userId)), ...args));
      }
      const replies = await Promise.race([
        Promise.all(calls),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      const now = monotonic();
      const levels = replies.flatMap((reply) => (Array.isArray(reply) ? reply : []));
      for (let i = 0; i < users.length; i += 1) {
        const mirror = mirrors.get(users[i] as string);
        const level = Number(levels[i]);
        if (mirror === undefined || !Number.isFinite(level)) continue;
        // Spends made while the sync was under way are not in `level` yet: they go with the next one.
        mirror.level = level - mirror.unsent;
        mirror.at = now;
      }
      if (down) {
        down = false;
        logger.info({}, 'rate limit: redis is back; users share their buckets across processes again');
      }
    } catch (error) {
      fellBack(error);
    } finally {
      clearTimeout(timeout);
    }
  };

  // Reports what every user spent since the last sync; never rejects.
  const exchange = async (): Promise<void> => {
    const users = [...dirty];
    dirty.clear();
    const spent = users.map((userId) => {
      const mirror = mirrors.get(userId);
      const amount = mirror?.unsent ?? 0;
      if (mirror !== undefined) mirror.unsent = 0;
      return amount;
    });
    if (users.length > 0) {
      // While Redis is away each process is a bucket of its own: what it spends then is not charged later.
      if (redis.status === 'ready') await charge(users, spent);
      else fellBack(new Error(`redis connection is ${redis.status}`));
    }
    forgetFull(monotonic());
  };

  // A mirror that would be full again, with nothing to report, is the same as no mirror: forget it.
  const forgetFull = (now: number): void => {
    if (now - forgotAt < FORGET_EVERY_MS) return;
    forgotAt = now;
    for (const [userId, mirror] of mirrors) {
      if (mirror.unsent > 0 || dirty.has(userId)) continue;
      refill(mirror, now);
      if (mirror.level >= mirror.limits.capacity) mirrors.delete(userId);
    }
  };

  const sync = (): Promise<void> => {
    if (syncing !== undefined) return syncing;
    clearTimeout(timer);
    timer = undefined;
    syncing = exchange().finally(() => {
      syncing = undefined;
      schedule();
    });
    return syncing;
  };

  return {
    take(userId, limits, now) {
      let mirror = mirrors.get(userId);
      if (mirror === undefined) {
        mirror = { level: limits.capacity, at: now, limits, unsent: 0 };
        mirrors.set(userId, mirror);
      } else {
        // The user's role may differ from one context to the next: the latest limits apply.
        mirror.limits = limits;
        refill(mirror, now);
      }
      if (mirror.level >= 1) {
        mirror.level -= 1;
        // An unbounded refill rate cannot be charged (nor is there anything to share).
        if (Number.isFinite(limits.refillPerSecond)) {
          mirror.unsent += 1;
          dirty.add(userId);
          schedule();
        }
        return 0;
      }
      return Math.max(1, Math.ceil(((1 - mirror.level) / limits.refillPerSecond) * 1000));
    },
    sync,
    mirrored: () => mirrors.size,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      await syncing;
      if (dirty.size > 0) await exchange();
    },
  };
}
