import type { RunEvent } from '@toolrun/api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Collector } from '../helpers.ts';
import { collect, createClient, login, orderingProblems, within } from '../helpers.ts';
import type { ChildServer } from '../reliability/support/childServer.ts';
import { holdLock, holdTableLock, redisCommand } from './backdoors.ts';
import { startTestCluster, type TestCluster } from './support.ts';

let cluster: TestCluster;
const closers: (() => void)[] = [];

beforeAll(async () => {
  // A short lease, so that a dead or paused worker's runs are closed within seconds.
  cluster = await startTestCluster({ apis: 2, workers: 2, env: { TOOLRUN_RUN_LEASE_MS: '4000' } });
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

/** The worker process executing runs right now (its `toolrun_active_runs` gauge), waiting for one. */
async function busyWorker(): Promise<ChildServer> {
  return within(
    (async () => {
      for (;;) {
        for (const worker of cluster.workers) {
          const text = await (await fetch(`${worker.url}/metrics`)).text();
          const active = /^toolrun_active_runs (\d+)/m.exec(text)?.[1];
          if (Number(active) > 0) return worker;
        }
        await sleep(100);
      }
    })(),
    30_000,
    'a worker to run the run',
  );
}

async function activeRuns(worker: ChildServer): Promise<number> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  return Number(/^toolrun_active_runs (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/** Runs one statement behind the processes' backs; its rows. */
async function sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const db = new pg.Client({ connectionString: cluster.databaseUrl });
  await db.connect();
  try {
    return (await db.query<T>(text, values)).rows;
  } finally {
    await db.end();
  }
}

/** The lease key of the process that took `runId` (`queued_runs.taken_by`), or null. */
async function takenBy(runId: string): Promise<number | null> {
  const [row] = await sql<{ taken_by: number | null }>('SELECT taken_by FROM queued_runs WHERE run_id = $1', [runId]);
  return row?.taken_by ?? null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cluster under failures', { timeout: 90_000 }, () => {
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

  it('a worker SIGKILLed mid-run: another worker’s reaper closes the run interrupted, and its follower gets every committed event once', async () => {
    const [a] = cluster.apis;
    if (a === undefined) throw new Error('an API process expected');
    const client = await clientAt(a.url, 'walt');
    const { runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 100, delayMs: 100 } });
    const follower = collect((cb) => client.runs.events.subscribe({ runId }, cb));
    await within(follower.waitForEvents(4, 30_000), 30_000, 'the run to be under way');
    const victim = await busyWorker();
    expect((await victim.stop('SIGKILL')).signal).toBe('SIGKILL');
    const events = (await within(follower.done, 60_000, 'the run to be closed')).flatMap((m) => m.events);
    expect(problemsOf(events, 'interrupted')).toEqual([]);
    // Exactly what is stored: every committed event delivered, once.
    expect((await client.runs.get.query({ runId })).events).toEqual(events);
    cluster.workers.splice(cluster.workers.indexOf(victim), 1, await cluster.spawn('worker'));
  });

  it('a worker paused (SIGSTOP) past its lease, then resumed: its run is closed interrupted and its late writes are refused', async () => {
    const [a] = cluster.apis;
    if (a === undefined) throw new Error('an API process expected');
    const client = await clientAt(a.url, 'paula');
    const { runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 100, delayMs: 100 } });
    const follower = collect((cb) => client.runs.events.subscribe({ runId }, cb));
    await within(follower.waitForEvents(4, 30_000), 30_000, 'the run to be under way');
    const paused = await busyWorker();
    paused.process.kill('SIGSTOP');
    let events: RunEvent[];
    try {
      events = (await within(follower.done, 60_000, 'the run to be closed')).flatMap((m) => m.events);
    } finally {
      paused.process.kill('SIGCONT');
    }
    expect(problemsOf(events, 'interrupted')).toEqual([]);
    // The resumed worker finds its commits refused, stops the run and lets go of it.
    await within(
      (async () => {
        while ((await activeRuns(paused)) !== 0) await sleep(100);
      })(),
      30_000,
      'the resumed worker to stop the fenced run',
    );
    // Nothing it wrote after waking up was stored: the history is what the follower saw, ending interrupted.
    expect((await client.runs.get.query({ runId })).events).toEqual(events);
  });

  it('a worker whose first commit of a run waits past its lease keeps the run: no other worker takes it over, and it completes once', async () => {
    const [a] = cluster.apis;
    if (a === undefined) throw new Error('an API process expected');
    const client = await clientAt(a.url, 'lena');
    // Every write to `runs` waits: the worker that takes the run executes it, its first commit pending.
    const lock = await holdTableLock(cluster.databaseUrl, 'runs');
    let runId = '';
    try {
      ({ runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 10, delayMs: 100 } }));
      const taker = await within(
        (async () => {
          for (;;) {
            const owner = await takenBy(runId);
            if (owner !== null) return owner;
            await sleep(100);
          }
        })(),
        30_000,
        'a worker to take the run',
      );
      // Two and a half leases (4 s): each worker's sweep (every 2 s) looked at the take several times.
      await sleep(10_000);
      expect(await takenBy(runId)).toBe(taker);
    } finally {
      await lock.release();
    }
    const events = (
      await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 60_000, 'the run')
    ).flatMap((m) => m.events);
    expect(problemsOf(events, 'completed')).toEqual([]);
  });

  it('a worker SIGKILLed while it held a run’s job, before it took the run: the run waits again and completes on another worker', async () => {
    const [a] = cluster.apis;
    const [given, other] = cluster.workers;
    if (a === undefined || given === undefined || other === undefined) throw new Error('2 workers expected');
    const client = await clientAt(a.url, 'olga');
    // Both workers paused: the run's job waits in the queue; then its row is locked, so that the worker
    // given the job cannot take the run (its compare-and-set waits), and only one worker resumes.
    given.process.kill('SIGSTOP');
    other.process.kill('SIGSTOP');
    let runId = '';
    let lock: { release(): Promise<void> } | undefined;
    try {
      ({ runId } = await client.runs.start.mutate({ agent: 'calculator', input: { question: 'What is 6*7?' } }));
      lock = await holdLock(cluster.databaseUrl, `SELECT 1 FROM queued_runs WHERE run_id = '${runId}' FOR UPDATE`);
      given.process.kill('SIGCONT');
      await within(
        (async () => {
          while (
            !(await redisCommand(cluster.redis.port, 'LRANGE', 'toolrun:bull:runs:active', '0', '-1')).includes(runId)
          )
            await sleep(100);
        })(),
        30_000,
        'the resumed worker to be given the job',
      );
      expect((await given.stop('SIGKILL')).signal).toBe('SIGKILL');
      // Its take, sent before it died, would still commit once the row is free (a dead taker's run is
      // closed interrupted at once, the test above): cancel it, as if the worker had died before sending it.
      await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'`);
    } finally {
      given.process.kill('SIGCONT');
      other.process.kill('SIGCONT');
      await lock?.release();
    }
    // Nothing of the run began: once the dead worker's job lock lapses (the lease), it is offered again.
    const events = (
      await within(collect((cb) => client.runs.events.subscribe({ runId }, cb)).done, 60_000, 'the run')
    ).flatMap((m) => m.events);
    expect(problemsOf(events, 'completed')).toEqual([]);
    cluster.workers.splice(cluster.workers.indexOf(given), 1, await cluster.spawn('worker'));
  });

  it('a worker stopped with SIGTERM takes no new run, finishes the one it runs within the grace period and exits 0', async () => {
    const [a] = cluster.apis;
    if (a === undefined) throw new Error('an API process expected');
    const client = await clientAt(a.url, 'gus');
    const { runId } = await client.runs.start.mutate({ agent: 'slow', input: { steps: 8, delayMs: 100 } });
    const follower = collect((cb) => client.runs.events.subscribe({ runId }, cb));
    await within(follower.waitForEvents(3, 30_000), 30_000, 'the run to be under way');
    const leaving = await busyWorker();
    const exit = leaving.stop('SIGTERM');
    // A run started meanwhile goes to the other worker.
    const next = await client.runs.start.mutate({ agent: 'calculator', input: { question: 'What is 2*21?' } });
    const nextEvents = (
      await within(
        collect((cb) => client.runs.events.subscribe({ runId: next.runId }, cb)).done,
        30_000,
        'the next run',
      )
    ).flatMap((m) => m.events);
    expect(problemsOf(nextEvents, 'completed')).toEqual([]);
    const events = (await within(follower.done, 30_000, 'the draining run')).flatMap((m) => m.events);
    // TOOLRUN_GRACE_MS is 2 s here: time enough for a run of about one second.
    expect(problemsOf(events, 'completed')).toEqual([]);
    expect(await within(exit, 30_000, 'the worker to exit')).toEqual({ code: 0, signal: null });
    cluster.workers.splice(cluster.workers.indexOf(leaving), 1);
  });

  // Last: it leaves the cluster with one API process.
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
  });
});
