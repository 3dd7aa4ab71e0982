import { describe, expect, it } from 'vitest';
import { silentLogger, useTestRedis } from '../../test/support/useTestRedis.ts';
import { connectRedis } from '../redis/connectRedis.ts';
import { clusterKeys } from '../redis/keys.ts';
import { createRunRegistry } from './runRegistry.ts';

const redis = useTestRedis();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the registry of runs under way across the cluster', () => {
  // `runs.cancel` asks it on every call: one lookup by run id, whatever else Redis holds.
  it('answers whether any worker runs a run with one command, not a scan of every key', async () => {
    const conn = connectRedis({ url: redis.server().url, name: 'registry-test', logger: silentLogger });
    const keys = clusterKeys('registry-lookup');
    const [one, two] = [
      createRunRegistry({ redis: conn, keys, workerId: 'w1' }),
      createRunRegistry({ redis: conn, keys, workerId: 'w2' }),
    ];
    const asker = connectRedis({ url: redis.server().url, name: 'registry-asker', logger: silentLogger });
    const reader = createRunRegistry({ redis: asker, keys, workerId: 'api' });
    try {
      // Many workers' and users' keys besides, as a busy cluster's Redis holds.
      for (let i = 0; i < 200; i += 1) await conn.set(`registry-lookup:noise:${i}`, 'x');
      await one.add({ runId: 'r1', userId: 'ann', agent: 'slow', startedAt: '2026-12-03T00:00:00.000Z' });
      await two.add({ runId: 'r2', userId: 'bob', agent: 'slow', startedAt: '2026-12-03T00:00:00.000Z' });
      await asker.ping();
      const commands: string[] = [];
      const send = asker.sendCommand.bind(asker);
      asker.sendCommand = ((command: { name: string }) => {
        commands.push(command.name);
        return send(command as Parameters<typeof send>[0]);
      }) as typeof asker.sendCommand;
      expect(await reader.has('r1')).toBe(true);
      expect(await reader.has('r2')).toBe(true);
      expect(await reader.has('r3')).toBe(false);
      expect(commands).toEqual(['exists', 'exists', 'exists']);
      // Admin run control still lists every worker's runs.
      expect((await reader.all()).map((run) => `${run.workerId}:${run.runId}`).sort()).toEqual(['w1:r1', 'w2:r2']);
      await one.remove('r1');
      expect(await reader.has('r1')).toBe(false);
    } finally {
      await one.close();
      await two.close();
      await reader.close();
      asker.disconnect();
      conn.disconnect();
    }
  });

  it('forgets a dead worker’s runs once its heartbeat lapses, and keeps a live worker’s', async () => {
    const conn = connectRedis({ url: redis.server().url, name: 'registry-ttl', logger: silentLogger });
    const keys = clusterKeys('registry-ttl');
    const live = createRunRegistry({ redis: conn, keys, workerId: 'live', ttlMs: 300 });
    const dead = createRunRegistry({ redis: conn, keys, workerId: 'dead', ttlMs: 300 });
    try {
      await live.add({ runId: 'r-live', userId: 'ann', agent: 'slow', startedAt: '2026-12-03T00:00:00.000Z' });
      await dead.add({ runId: 'r-dead', userId: 'bob', agent: 'slow', startedAt: '2026-12-03T00:00:00.000Z' });
      // The dead worker's heartbeat stops (its process is gone: what it wrote stays, with its TTL); the
      // live one's goes on.
      await dead.close();
      await conn.set(keys.runWorker('r-dead'), 'dead', 'PX', 300);
      await sleep(1_000);
      expect(await live.has('r-live')).toBe(true);
      expect(await live.has('r-dead')).toBe(false);
    } finally {
      await live.close();
      conn.disconnect();
    }
  });
});
