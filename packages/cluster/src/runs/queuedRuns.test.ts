import { createToolrunServices, type ToolrunServices } from '@toolrun/api';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { silentLogger, useTestRedis } from '../../test/support/useTestRedis.ts';
import { createUserSlots } from '../limits/createUserSlots.ts';
import { connectRedis } from '../redis/connectRedis.ts';
import { clusterKeys } from '../redis/keys.ts';
import { clusterStarter } from './createClusterStarter.ts';
import type { RunJobData } from './RunJob.ts';

const redis = useTestRedis();

describe('the cluster starter looks up one queued run, not all of them', () => {
  it('runs.events and runs.cancel of a run not started yet read one run record, however many runs are queued across the cluster', async () => {
    await withStarter('lookups', async (s) => {
      // No worker takes them: 60 users' runs wait in the queue, as under load across a cluster.
      const runIds: string[] = [];
      for (let i = 0; i < 60; i += 1) {
        const principal = { userId: `user-${i}`, roles: ['user' as const] };
        const { runId } = await s.starter.start(principal, { agent: 'calculator', input: {} });
        runIds.push(runId);
      }
      const db = s.db;
      const lookUp = db.getRunRecord.bind(db);
      let lookups = 0;
      db.getRunRecord = (runId) => {
        lookups += 1;
        return lookUp(runId);
      };
      const target = runIds[30] ?? '';
      // What findRun asks for a run whose agent_started is not committed yet (runs.events, runs.cancel).
      expect(await s.starter.queued(target)).toMatchObject({ record: { runId: target }, position: 1 });
      expect(lookups).toBeLessThanOrEqual(2);
      lookups = 0;
      expect(await s.starter.cancelQueued(target, 'cancelled by its owner')).toBe(true);
      expect(lookups).toBeLessThanOrEqual(2);
      // Still right: the cancelled run is no longer waiting; the others are.
      expect(await s.starter.queued(target)).toBeUndefined();
      expect(await s.starter.queued(runIds[31] ?? '')).toMatchObject({ position: 1 });
    });
  });

  it('a cancel racing a worker that takes the run answers "not queued" (the broadcast path then cancels it) and writes nothing', async () => {
    await withStarter('race', async (s) => {
      const { runId } = await s.starter.start({ userId: 'rae', roles: ['user'] }, { agent: 'calculator', input: {} });
      // A worker takes the run just after the cancel read its row (and found it not taken).
      const read = s.db.queuedRuns.get.bind(s.db.queuedRuns);
      s.db.queuedRuns.get = async (id) => {
        const row = await read(id);
        if (id === runId) expect(await s.db.queuedRuns.take(id)).toBe(true);
        return row;
      };
      expect(await s.starter.cancelQueued(runId, 'cancelled by its owner')).toBe(false);
      // The worker owns the run: no cancelled ending was written beside it.
      expect(await s.db.getRun(runId)).toBeUndefined();
      expect((await read(runId))?.takenBy).not.toBeNull();
    });
  });

  it('a cancel whose ending cannot be written gives the run back to the queue (untaken) and fails, rather than leave it taken by nobody', async () => {
    await withStarter('unwritten', async (s) => {
      const { runId } = await s.starter.start({ userId: 'una', roles: ['user'] }, { agent: 'calculator', input: {} });
      const write = s.sink.write.bind(s.sink);
      s.sink.write = async () => {
        throw new Error('the database went away');
      };
      await expect(s.starter.cancelQueued(runId, 'cancelled by its owner')).rejects.toThrow('the database went away');
      s.sink.write = write;
      expect((await s.db.queuedRuns.get(runId))?.takenBy).toBeNull();
      expect(await s.starter.queued(runId)).toMatchObject({ record: { runId }, position: 1 });
      // Once the database is back, the same cancel goes through.
      expect(await s.starter.cancelQueued(runId, 'cancelled by its owner')).toBe(true);
      expect((await s.db.getRun(runId))?.events.map((e) => e.type)).toEqual(['agent_started', 'agent_completed']);
    });
  });
});

/** A cluster starter over an in-memory database and the test's redis-server, no worker: runs stay queued. */
async function withStarter(name: string, body: (services: ToolrunServices) => Promise<void>): Promise<void> {
  const keys = clusterKeys(name);
  const conn = connectRedis({ url: redis.server().url, name: `${name}-test`, logger: silentLogger });
  const queue = new Queue<RunJobData>(keys.queueName, { connection: conn, prefix: keys.queuePrefix });
  const slots = createUserSlots({ redis: conn, keys, ttlMs: 10_000 });
  let services: ToolrunServices | undefined;
  try {
    services = await createToolrunServices({
      database: ':memory:',
      auth: { mode: 'dev', secret: 'a-secret-for-the-queued-lookup-tests-0123' },
      cluster: { createStarter: clusterStarter(queue, slots), publishToHub: false, onCommitted: () => {} },
    });
    await body(services);
  } finally {
    await services?.close();
    await queue.close();
    slots.close();
    conn.disconnect();
  }
}
