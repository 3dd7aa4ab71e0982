import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test/support/startRedis.ts';
import { connectRedis } from '../redis/connectRedis.ts';
import { clusterKeys } from '../redis/keys.ts';
import { createUserSlots } from './createUserSlots.ts';

const logger = { info() {}, warn() {}, error() {}, child: () => logger };
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('createUserSlots', () => {
  it('gives a user at most `limit` slots across holders, frees one on release, and keeps users apart', async () => {
    const conn = connectRedis({ url: redis.url, name: 'slots-test', logger });
    const one = createUserSlots({ redis: conn, keys: clusterKeys('t1'), ttlMs: 10_000 });
    const two = createUserSlots({ redis: conn, keys: clusterKeys('t1'), ttlMs: 10_000 });
    try {
      expect(await one.acquire('ann', 'r1', 2)).toBe(true);
      expect(await two.acquire('ann', 'r2', 2)).toBe(true);
      expect(await one.acquire('ann', 'r3', 2)).toBe(false);
      // A holder asking again for its own slot keeps it.
      expect(await two.acquire('ann', 'r2', 2)).toBe(true);
      expect(await two.acquire('bob', 'r4', 2)).toBe(true);
      expect(await one.inUse('ann')).toBe(2);
      await one.release('ann', 'r1');
      expect(await two.acquire('ann', 'r3', 2)).toBe(true);
    } finally {
      one.close();
      two.close();
      conn.disconnect();
    }
  });

  it('renews the slots of a live holder, and frees a dead holder’s slots within one lease: none leaks', async () => {
    const conn = connectRedis({ url: redis.url, name: 'slots-test', logger });
    const live = createUserSlots({ redis: conn, keys: clusterKeys('t2'), ttlMs: 300 });
    const dead = createUserSlots({ redis: conn, keys: clusterKeys('t2'), ttlMs: 300 });
    try {
      expect(await live.acquire('cai', 'kept', 2)).toBe(true);
      expect(await dead.acquire('cai', 'lost', 2)).toBe(true);
      // The second holder dies: nothing renews its slot any more.
      dead.close();
      const until = Date.now() + 10_000;
      while ((await live.inUse('cai')) > 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      // Several leases later the live holder's slot is still there, the dead one's is free.
      await new Promise((r) => setTimeout(r, 700));
      expect(await live.inUse('cai')).toBe(1);
      expect(await live.acquire('cai', 'next', 2)).toBe(true);
      expect(await live.acquire('cai', 'more', 2)).toBe(false);
    } finally {
      live.close();
      conn.disconnect();
    }
  });
});
