import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Collector } from '../helpers.ts';
import { collect, createClient, login, orderingProblems, within } from '../helpers.ts';
import { startTestCluster, type TestCluster } from './support.ts';

let cluster: TestCluster;
const closers: (() => void)[] = [];

beforeAll(async () => {
  cluster = await startTestCluster({ apis: 2, workers: 2 });
}, 120_000);

afterAll(async () => {
  for (const close of closers) close();
  await cluster?.stop();
});

async function clientAt(url: string, userId: string): Promise<Client> {
  const token = await login(url, userId);
  const { client, close } = createClient(url, { transport: 'sse', token });
  closers.push(close);
  return client;
}

/** Problems of one run's events as a client received them: order, gaps, duplicates, the end. */
function problemsOf(events: readonly RunEvent[], status: string): string[] {
  const problems = orderingProblems(events);
  const seqs = events.map((e) => e.seq);
  if (seqs.some((seq, i) => seq !== i + 1)) problems.push(`seqs ${seqs.join(',')} are not 1..${seqs.length}`);
  const last = events.at(-1);
  if (last?.type !== 'agent_completed' || last.status !== status) {
    problems.push(`ends with ${last?.type} ${last?.type === 'agent_completed' ? last.status : ''}, not ${status}`);
  }
  return problems;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cluster under failures', () => {
  it('Redis restarted (empty) mid-load: every run completes and every follower gets every event once, in order', async () => {
    const [a, b] = cluster.apis;
    if (a === undefined || b === undefined) throw new Error('two API processes expected');
    const users = ['rhea', 'rafe', 'rosa', 'rudi'];
    const followers: { runId: string; follower: Collector }[] = [];
    for (const [i, userId] of users.entries()) {
      const starter = await clientAt(i % 2 === 0 ? a.url : b.url, userId);
      const watcher = await clientAt(i % 2 === 0 ? b.url : a.url, userId);
      for (let n = 0; n < 2; n += 1) {
        const { runId } = await starter.runs.start.mutate({ agent: 'slow', input: { steps: 12, delayMs: 150 } });
        followers.push({
          runId,
          follower: collect((callbacks) => watcher.runs.events.subscribe({ runId }, callbacks)),
        });
      }
    }
    await sleep(600);
    await cluster.redis.kill();
    await sleep(800);
    await cluster.redis.restart();
    for (const { runId, follower } of followers) {
      const events = (await within(follower.done, 60_000, `run ${runId}`)).flatMap((m) => m.events);
      expect(problemsOf(events, 'completed'), runId).toEqual([]);
    }
    // Runs started after the restart go through the new Redis as usual.
    const after = await clientAt(a.url, 'rhea');
    const { runId } = await after.runs.start.mutate({ agent: 'calculator', input: { question: 'What is 6*7?' } });
    const events = (
      await within(collect((cb) => after.runs.events.subscribe({ runId }, cb)).done, 30_000, 'a new run')
    ).flatMap((m) => m.events);
    expect(problemsOf(events, 'completed')).toEqual([]);
  });

  it('an API process SIGKILLed mid-run: its clients resume on the other from their last event id, nothing lost or doubled', async () => {
    const [a, b] = cluster.apis;
    if (a === undefined || b === undefined) throw new Error('two API processes expected');
    const users = ['kim', 'kai', 'kit'];
    const followed: { runId: string; first: Collector; userId: string }[] = [];
    for (const userId of users) {
      const client = await clientAt(a.url, userId);
      const { runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 10, delayMs: 150 } });
      followed.push({ runId, userId, first: collect((cb) => client.runs.events.subscribe({ runId }, cb)) });
    }
    for (const { first } of followed) await within(first.waitForEvents(2, 30_000), 30_000, 'first events on A');
    expect((await a.stop('SIGKILL')).signal).toBe('SIGKILL');
    for (const { runId, first, userId } of followed) {
      first.unsubscribe();
      const client = await clientAt(b.url, userId);
      const lastEventId = first.messages.at(-1)?.id;
      const rest = collect((cb) => client.runs.events.subscribe({ runId, lastEventId }, cb));
      const events = [
        ...first.events(),
        ...(await within(rest.done, 30_000, `resume ${runId}`)).flatMap((m) => m.events),
      ];
      expect(problemsOf(events, 'completed'), runId).toEqual([]);
    }
    // The cluster goes on with a replacement API process.
    cluster.apis[0] = await cluster.spawn('api');
  });
});
