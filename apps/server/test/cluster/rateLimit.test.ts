import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, eventually, login } from '../helpers.ts';
import { logsAbout, redisCommand } from './backdoors.ts';
import { startTestCluster, type TestCluster } from './support.ts';

// Each user's rate-limit bucket is shared by every process of the cluster (in Redis): a user whose tool
// calls run on two workers gets the configured rate in all, not the rate per worker.

const CAPACITY = 5;
const PER_SECOND = 5;
/** The cluster's default sync interval (`rateSyncIntervalMs`). */
const SYNC_INTERVAL_MS = 100;

let cluster: TestCluster;

beforeAll(async () => {
  // One API process is enough: API processes execute nothing in cluster mode, so only workers take tokens.
  cluster = await startTestCluster({
    apis: 1,
    workers: 2,
    env: {
      TOOLRUN_RATE_LIMIT_CAPACITY: String(CAPACITY),
      TOOLRUN_RATE_LIMIT_REFILL_PER_SECOND: String(PER_SECOND),
      TOOLRUN_LOG_LEVEL: 'info',
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cluster: the per-user rate limit holds across workers', { timeout: 120_000 }, () => {
  it('one user’s tool calls on two workers are admitted at the cluster-wide rate and refused RATE_LIMITED beyond it, not at twice the rate', async () => {
    const [api] = cluster.apis;
    if (api === undefined) throw new Error('an API process expected');
    const { client } = createClient(api.url, { transport: 'sse', token: await login(api.url, 'rosa') });
    // About 30 one-call runs a second for 5 s, six times what the bucket refills: both workers take
    // some of them all along, each time one token.
    const started: Promise<{ runId: string }>[] = [];
    for (let i = 0; i < 150; i += 1) {
      started.push(client.tools.run.mutate({ tool: 'calculator', input: { expression: `${i}+1` } }));
      await sleep(33);
    }
    const runIds = (await Promise.all(started)).map((s) => s.runId);
    // The shared bucket is in Redis, under the user's key (it expires a second after it would be full).
    expect(await redisCommand(cluster.redis.port, 'EXISTS', 'toolrun:rate:rosa')).toBe('1');
    const calls: { at: number; status: string; code: string | undefined; runId: string }[] = [];
    for (const runId of runIds) {
      const events = await eventually(async () => {
        const detail = await client.runs.get.query({ runId });
        return detail.events.some((e) => e.type === 'agent_completed') ? (detail.events as RunEvent[]) : undefined;
      }, 60_000);
      const executing = events.find((e) => e.type === 'tool_executing');
      const completed = events.find((e) => e.type === 'tool_completed');
      if (executing === undefined || completed?.type !== 'tool_completed') throw new Error(`run ${runId}: no call`);
      calls.push({
        at: Date.parse(executing.at),
        status: completed.status,
        code: completed.status === 'success' ? undefined : completed.error?.code,
        runId,
      });
    }
    const admitted = calls.filter((c) => c.status === 'success');
    const refused = calls.filter((c) => c.code === 'RATE_LIMITED');
    // Every call was either admitted or refused by the rate limit, and nothing else.
    expect(admitted.length + refused.length).toBe(calls.length);
    expect(refused.length).toBeGreaterThan(0);
    // Both workers executed calls, and both were admitted some: the bucket is theirs together.
    for (const worker of cluster.workers) {
      const mine = calls.filter((c) => logsAbout(worker, c.runId, 'run started') === 1);
      expect(mine.length).toBeGreaterThan(10);
      expect(mine.filter((c) => c.status === 'success').length).toBeGreaterThan(0);
    }
    const times = calls.map((c) => c.at);
    const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
    const n = cluster.workers.length;
    // The design's bound (packages/cluster README, "Rate limit"): one shared bucket (capacity + rate ×
    // time), plus the other worker's first burst (it had not seen the user), plus what each worker can
    // spend in a sync interval before the other sees it, twice, the interval stretched by an allowance
    // for round trips and timers on a busy machine; one more token each for the event times' rounding.
    const lag = (SYNC_INTERVAL_MS + 250) / 1000;
    const bound = CAPACITY + PER_SECOND * (seconds + 0.002) + (n - 1) * CAPACITY + 2 * n * PER_SECOND * lag + n;
    expect(admitted.length).toBeLessThanOrEqual(bound);
    // A bucket per worker would admit up to this much: the bug this fixes.
    expect(admitted.length).toBeLessThan(n * (CAPACITY + PER_SECOND * seconds));
    expect(admitted.length).toBeGreaterThanOrEqual(CAPACITY);
  });
});
