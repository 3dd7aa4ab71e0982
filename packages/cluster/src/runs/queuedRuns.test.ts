import { createToolrunServices, queuedRunEvents, type ToolrunServices } from '@toolrun/api';
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
    const keys = clusterKeys('lookups');
    const conn = connectRedis({ url: redis.server().url, name: 'lookups-test', logger: silentLogger });
    const queue = new Queue<RunJobData>(keys.queueName, { connection: conn, prefix: keys.queuePrefix });
    const slots = createUserSlots({ redis: conn, keys, ttlMs: 10_000 });
    let services: ToolrunServices | undefined;
    try {
      services = await createToolrunServices({
        database: ':memory:',
        auth: { mode: 'dev', secret: 'a-secret-for-the-queued-lookup-tests-0123' },
        cluster: { createStarter: clusterStarter(queue, slots), publishToHub: false, onCommitted: () => {} },
      });
      // No worker takes them: 60 users' runs wait in the queue, as under load across a cluster.
      const runIds: string[] = [];
      for (let i = 0; i < 60; i += 1) {
        const principal = { userId: `user-${i}`, roles: ['user' as const] };
        const { runId } = await services.starter.start(principal, { agent: 'calculator', input: {} });
        runIds.push(runId);
      }
      const db = services.db;
      const lookUp = db.getRunRecord.bind(db);
      let lookups = 0;
      db.getRunRecord = (runId) => {
        lookups += 1;
        return lookUp(runId);
      };
      const target = runIds[30] ?? '';
      // What findRun asks for a run whose agent_started is not committed yet (runs.events, runs.cancel).
      expect(await services.starter.queued(target)).toMatchObject({ record: { runId: target }, position: 1 });
      expect(lookups).toBeLessThanOrEqual(2);
      lookups = 0;
      expect(await services.starter.cancelQueued(target, 'cancelled by its owner')).toBe(true);
      expect(lookups).toBeLessThanOrEqual(2);
      // Still right: the cancelled run is no longer waiting; the others are.
      expect(await services.starter.queued(target)).toBeUndefined();
      expect(await services.starter.queued(runIds[31] ?? '')).toMatchObject({ position: 1 });
    } finally {
      await services?.close();
      await queue.close();
      slots.close();
      conn.disconnect();
    }
  });

  it('a cancel racing a worker that starts a run whose job Redis lost answers "not queued" (the broadcast path then cancels it), not a 500', async () => {
    const keys = clusterKeys('race');
    const conn = connectRedis({ url: redis.server().url, name: 'race-test', logger: silentLogger });
    const queue = new Queue<RunJobData>(keys.queueName, { connection: conn, prefix: keys.queuePrefix });
    const slots = createUserSlots({ redis: conn, keys, ttlMs: 10_000 });
    let services: ToolrunServices | undefined;
    try {
      const s = await createToolrunServices({
        database: ':memory:',
        auth: { mode: 'dev', secret: 'a-secret-for-the-queued-lookup-tests-0123' },
        cluster: { createStarter: clusterStarter(queue, slots), publishToHub: false, onCommitted: () => {} },
      });
      services = s;
      const { runId } = await s.starter.start({ userId: 'rae', roles: ['user'] }, { agent: 'calculator', input: {} });
      // Redis restarted empty: the job is gone, the durable row stays.
      await (await queue.getJob(runId))?.remove();
      const record = (await s.db.queuedRuns.all()).find((row) => row.runId === runId);
      if (record === undefined) throw new Error('the queued row is missing');
      const [started] = queuedRunEvents({
        record,
        ending: { status: 'cancelled', code: 'CANCELLED', message: 'unused' },
        now: Date.now(),
        redaction: s.factory.limits.redaction,
        metrics: s.metrics,
      });
      if (started === undefined) throw new Error('no agent_started');
      // A worker that took the job before Redis lost it commits the run's start just after the
      // cancel looked the run up (and found it not started).
      const lookUp = s.db.getRunRecord.bind(s.db);
      let raced = false;
      s.db.getRunRecord = async (id) => {
        const found = await lookUp(id);
        if (id === runId && !raced) {
          raced = true;
          await s.sink.write([started]);
          await s.sink.flush();
        }
        return found;
      };
      expect(await s.starter.cancelQueued(runId, 'cancelled by its owner')).toBe(false);
      // The worker's start stands alone: no cancelled ending was written for a run that is running.
      expect((await s.db.getRun(runId))?.events.map((e) => e.type)).toEqual(['agent_started']);
    } finally {
      await services?.close();
      await queue.close();
      slots.close();
      conn.disconnect();
    }
  });
});
