import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenBucketLimits } from '@toolrun/dispatcher';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, useTestRedis } from '../../test/support/useTestRedis.ts';
import type { ClusterLogger } from '../ClusterLogger.ts';
import { connectRedis } from '../redis/connectRedis.ts';
import { clusterKeys } from '../redis/keys.ts';
import { createSharedRateLimit, type SharedRateLimit } from './createSharedRateLimit.ts';

const redis = useTestRedis();
const keys = clusterKeys('rate-test');
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One "process": a connection of its own and a limiter on it. */
function processOf(opts: { syncIntervalMs?: number; logger?: ClusterLogger } = {}): {
  limiter: SharedRateLimit;
  conn: Redis;
} {
  const conn = connectRedis({
    url: redis.server().url,
    name: 'rate-test',
    logger: silentLogger,
    queueWhileDown: false,
  });
  const limiter = createSharedRateLimit({
    redis: conn,
    keys,
    logger: opts.logger ?? silentLogger,
    syncIntervalMs: opts.syncIntervalMs ?? 20,
  });
  cleanups.push(async () => {
    await limiter.close();
    conn.disconnect();
  });
  return { limiter, conn };
}

async function ready(conn: Redis): Promise<void> {
  while (conn.status !== 'ready') await sleep(10);
}

/** The shared level of `userId`'s bucket as Redis holds it (NaN when there is no key). */
async function sharedLevel(conn: Redis, userId: string): Promise<number> {
  return Number(await conn.hget(keys.userRate(userId), 'level'));
}

/** Takes `count` tokens at once; how many were admitted. */
function burst(limiter: SharedRateLimit, userId: string, limits: TokenBucketLimits, count: number): number {
  let admitted = 0;
  for (let i = 0; i < count; i += 1) if (limiter.take(userId, limits, performance.now()) === 0) admitted += 1;
  return admitted;
}

describe('createSharedRateLimit', () => {
  it('two processes taking as fast as they can admit about capacity + rate × time together, within the design’s bound, not twice it', async () => {
    const limits = { capacity: 10, refillPerSecond: 40 };
    const syncIntervalMs = 20;
    const processes = [processOf({ syncIntervalMs }), processOf({ syncIntervalMs })];
    for (const p of processes) await ready(p.conn);
    const admitted = [0, 0];
    const started = performance.now();
    let attempts = 0;
    while (performance.now() - started < 2_500) {
      processes.forEach((p, i) => {
        attempts += 1;
        if (p.limiter.take('ada', limits, performance.now()) === 0) admitted[i] = (admitted[i] ?? 0) + 1;
      });
      await sleep(2);
    }
    const seconds = (performance.now() - started) / 1000;
    const total = (admitted[0] ?? 0) + (admitted[1] ?? 0);
    const n = processes.length;
    // The design's bound: one shared bucket (capacity + rate × time), plus each other process's first
    // burst (it had not seen the user: it starts full), plus what each process can spend in a sync
    // interval before the others see it, twice (the debt left at the end and the spends not reported
    // yet), the interval stretched by a generous allowance for round trips and timers on a busy machine.
    const lag = (syncIntervalMs + 250) / 1000;
    const bound =
      limits.capacity +
      limits.refillPerSecond * seconds +
      (n - 1) * limits.capacity +
      2 * n * limits.refillPerSecond * lag +
      n;
    expect(total).toBeLessThanOrEqual(bound);
    // Each process alone, with a bucket of its own, would admit this much (the bug this fixes).
    expect(total).toBeLessThan(n * (limits.capacity + limits.refillPerSecond * seconds));
    // Not starved: the shared bucket's refill was spent.
    expect(total).toBeGreaterThanOrEqual(limits.capacity + (limits.refillPerSecond * seconds) / 2);
    // Both processes were admitted, and refused most of their attempts.
    expect(Math.min(...admitted)).toBeGreaterThan(0);
    expect(attempts).toBeGreaterThan(4 * total);
  });

  it('charges a burst beyond capacity as debt, which refill repays before the user is admitted again', async () => {
    const limits = { capacity: 5, refillPerSecond: 10 };
    const [a, b] = [processOf(), processOf()];
    await Promise.all([ready(a.conn), ready(b.conn)]);
    // Neither process has seen the user: each starts full, so both bursts pass (the stated excess).
    const burstAt = performance.now();
    expect(burst(a.limiter, 'bea', limits, 5)).toBe(5);
    expect(burst(b.limiter, 'bea', limits, 5)).toBe(5);
    await a.limiter.sync();
    await b.limiter.sync();
    const charged = (performance.now() - burstAt) / 1000;
    const level = await sharedLevel(a.conn, 'bea');
    // Ten tokens charged to a bucket of five: five in debt, less what refilled meanwhile.
    expect(level).toBeGreaterThanOrEqual(-5);
    expect(level).toBeLessThanOrEqual(-5 + limits.refillPerSecond * charged);
    // B's mirror holds the debt: it waits for the debt and one more token to refill, not one token's time.
    const wait = b.limiter.take('bea', limits, performance.now());
    expect(wait).toBeGreaterThan(1_000 / limits.refillPerSecond);
    // B is admitted again only once refill has repaid the debt...
    let admittedAt = 0;
    while (admittedAt === 0) {
      await sleep(10);
      if (b.limiter.take('bea', limits, performance.now()) === 0) admittedAt = performance.now();
    }
    expect((admittedAt - burstAt) / 1000).toBeGreaterThanOrEqual(5 / limits.refillPerSecond);
    // ...and the shared bucket agrees: the debt is gone, the one token just taken charged.
    await b.limiter.sync();
    const repaid = await sharedLevel(b.conn, 'bea');
    expect(repaid).toBeGreaterThan(-2);
    expect(repaid).toBeLessThan(limits.capacity);
  });

  it('lets an idle user’s key expire once it would be full again, and forgets the mirror: nothing grows', async () => {
    const limits = { capacity: 2, refillPerSecond: 20 };
    const { limiter, conn } = processOf();
    await ready(conn);
    expect(burst(limiter, 'cid', limits, 2)).toBe(2);
    await limiter.sync();
    expect(limiter.mirrored()).toBe(1);
    const ttl = await conn.pttl(keys.userRate('cid'));
    // Empty: full again after capacity / rate = 100 ms; the key lives that long plus a second's margin.
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100 + 1_000 + 1);
    while ((await conn.exists(keys.userRate('cid'))) === 1) await sleep(50);
    while (limiter.mirrored() > 0) {
      await limiter.sync();
      await sleep(50);
    }
    expect(limiter.mirrored()).toBe(0);
    // A forgotten user starts full again, as a new one.
    expect(burst(limiter, 'cid', limits, 3)).toBe(2);
  });

  it('falls back to a local bucket while Redis is down (logged once, no throw, no wait) and shares again once it is back', async () => {
    const warnings: string[] = [];
    const infos: string[] = [];
    const logger: ClusterLogger = {
      ...silentLogger,
      warn: (_, msg) => {
        warnings.push(msg ?? '');
      },
      info: (_, msg) => {
        infos.push(msg ?? '');
      },
    };
    const limits = { capacity: 3, refillPerSecond: 0.5 };
    const { limiter, conn } = processOf({ logger });
    await ready(conn);
    expect(burst(limiter, 'dot', limits, 1)).toBe(1);
    await limiter.sync();
    expect(await sharedLevel(conn, 'dot')).toBeLessThanOrEqual(2);

    await redis.server().kill();
    // The mirror is a local bucket now: the two tokens left pass, the next is refused with a wait.
    expect(burst(limiter, 'dot', limits, 2)).toBe(2);
    expect(limiter.take('dot', limits, performance.now())).toBeGreaterThan(1_000);
    for (let i = 0; i < 3; i += 1) {
      expect(burst(limiter, `dot-${i}`, limits, 4)).toBe(3);
      await limiter.sync();
    }
    expect(warnings).toEqual(['rate limit: redis unreachable; each process limits its users alone until it is back']);

    await redis.server().restart();
    await ready(conn);
    expect(burst(limiter, 'eve', limits, 1)).toBe(1);
    await limiter.sync();
    // Charged to the shared bucket again.
    expect(await sharedLevel(conn, 'eve')).toBeLessThanOrEqual(2);
    expect(infos).toEqual(['rate limit: redis is back; users share their buckets across processes again']);
    expect(warnings).toHaveLength(1);
  });
});
