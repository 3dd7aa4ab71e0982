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
      const r1 = await one.acquire('ann', 'r1', 2);
      expect(r1).toBeDefined();
      expect(await two.acquire('ann', 'r2', 2)).toBeDefined();
      expect(await one.acquire('ann', 'r3', 2)).toBeUndefined();
      expect(await two.acquire('bob', 'r4', 2)).toBeDefined();
      expect(await one.inUse('ann')).toBe(2);
      await r1?.release();
      // Released twice: still one slot freed, not two.
      await r1?.release();
      expect(await one.inUse('ann')).toBe(1);
      expect(await two.acquire('ann', 'r3', 2)).toBeDefined();
      expect(await two.acquire('ann', 'r5', 2)).toBeUndefined();
    } finally {
      one.close();
      two.close();
      conn.disconnect();
    }
  });

  it('keeps the winner’s slot when two workers offered the same run both took one and the loser gives its back', async () => {
    // The queue can offer a run twice (a job offered again while its first worker still holds it);
    // both workers take a slot before the take in PostgreSQL decides which one executes it.
    const conn = connectRedis({ url: redis.url, name: 'slots-test', logger });
    const winner = createUserSlots({ redis: conn, keys: clusterKeys('t3'), ttlMs: 10_000 });
    const loser = createUserSlots({ redis: conn, keys: clusterKeys('t3'), ttlMs: 10_000 });
    try {
      const kept = await winner.acquire('dee', 'twice', 2);
      const given = await loser.acquire('dee', 'twice', 2);
      expect(kept).toBeDefined();
      expect(given).toBeDefined();
      await given?.release();
      // The winner's run still holds its slot: one more run fits under the limit of 2, not two.
      expect(await winner.inUse('dee')).toBe(1);
      expect(await loser.acquire('dee', 'other', 2)).toBeDefined();
      expect(await loser.acquire('dee', 'third', 2)).toBeUndefined();
      await kept?.release();
      expect(await winner.inUse('dee')).toBe(1);
    } finally {
      winner.close();
      loser.close();
      conn.disconnect();
    }
  });

  it('renews the slots of a live holder, and frees a dead holder’s slots within one lease: none leaks', async () => {
    const conn = connectRedis({ url: redis.url, name: 'slots-test', logger });
    const live = createUserSlots({ redis: conn, keys: clusterKeys('t2'), ttlMs: 300 });
    const dead = createUserSlots({ redis: conn, keys: clusterKeys('t2'), ttlMs: 300 });
    try {
      expect(await live.acquire('cai', 'kept', 2)).toBeDefined();
      expect(await dead.acquire('cai', 'lost', 2)).toBeDefined();
      // The second holder dies: nothing renews its slot any more.
      dead.close();
      const until = Date.now() + 10_000;
      while ((await live.inUse('cai')) > 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      // Several leases later the live holder's slot is still there, the dead one's is free.
      await new Promise((r) => setTimeout(r, 700));
      expect(await live.inUse('cai')).toBe(1);
      expect(await live.acquire('cai', 'next', 2)).toBeDefined();
      expect(await live.acquire('cai', 'more', 2)).toBeUndefined();
    } finally {
      live.close();
      conn.disconnect();
    }
  });
});
