import type { RunEvent } from '@toolrun/api';
import { TRPCClientError } from '@trpc/client';
import type { Client, Transport } from '../../helpers.ts';
import { createClient } from '../../helpers.ts';
import { planDemoRun } from './demoRuns.ts';
import type { StreamLog } from './followStream.ts';
import { emptyStreamLog, followStream } from './followStream.ts';
import type { Random } from './random.ts';

/** What one run looked like from its owner's client. */
export interface RunLog {
  runId: string;
  userId: string;
  agent: string;
  transport: Transport;
  cancelRequested: boolean;
  /** `runs.cancel`'s answer (`cancelled`: the run was still under way), when it was asked and answered. */
  cancelAnswer?: boolean;
  /** How long `runs.cancel` took to answer, retries included, when it was asked and answered. */
  cancelMs?: number;
  /** Epoch ms when `runs.cancel` was first asked. */
  cancelAskedAt?: number;
  /** Epoch ms when the client got `runs.start`'s answer. */
  acknowledgedAt: number;
  stream: StreamLog;
}

/** What one virtual user did and saw. */
export interface UserLog {
  userId: string;
  transport: Transport;
  runs: RunLog[];
  /** The user's own feed (`runs.feed`), or every user's for an admin, when it followed one. */
  feed: StreamLog | undefined;
  /** Which feed it followed: its own, or (an admin) every user's. */
  feedScope: 'own' | 'all';
  /** False when its feed had not received the end of each of its runs 10 s after the last one ended. */
  feedCaughtUp?: boolean;
  /** Calls the server refused (a tRPC error code) or that failed on the network, by procedure. */
  failures: string[];
  /** `runs.start` calls retried after a network failure: the run may exist without the client knowing it. */
  ambiguousStarts: number;
}

/** Options of {@link runVirtualUser}. */
export interface VirtualUserOptions {
  baseUrl: string;
  /**
   * Several server processes behind one service (a cluster's API processes): when given, each new
   * connection (sign-in, the runs', the feed's) goes to a random one of them, a reconnect after a drop
   * to another one than the connection it replaces, and each cancel to a random one. `baseUrl` is not used then.
   */
  urls?: readonly string[];
  userId: string;
  admin: boolean;
  transport: Transport;
  rng: Random;
  runs: number;
  cancelRate: number;
  disconnectRate: number;
  /** Also follow the user's own feed for the whole session. */
  feed: boolean;
  /** Which feed it follows: `'all'` (an admin) follows every user's; default `'own'`. */
  feedScope?: 'own' | 'all';
  /** Hang guard: everything stops after this epoch time. */
  deadline: number;
  /** Aborted to stop the user at once (tests tearing down). */
  signal: AbortSignal;
  /** Aborted to let the user finish its current run and start no more. */
  stopStarting?: AbortSignal;
}

const CALL_TIMEOUT_MS = 15_000;

/**
 * One virtual user: signs in (retrying while the server is down), optionally follows its feed, then
 * starts `runs` runs of random demo agents one after another; follows each to its `agent_completed`
 * with random drops and resumes, and cancels some of them. Never throws: what went wrong is in the log.
 */
export async function runVirtualUser(opts: VirtualUserOptions): Promise<UserLog> {
  const log: UserLog = {
    userId: opts.userId,
    transport: opts.transport,
    runs: [],
    feed: undefined,
    feedScope: opts.feedScope ?? 'own',
    failures: [],
    ambiguousStarts: 0,
  };
  const token = await retrying(opts, log, 'auth.login', (c) =>
    c.auth.login.mutate({ userId: opts.userId, role: opts.admin ? 'admin' : 'user' }).then((r) => r.token),
  );
  if (token === undefined) return log;
  let url = urlFor(opts);
  let connection = createClient(url, { transport: opts.transport, token });
  const reconnect = () => {
    connection.close();
    url = urlFor(opts, url);
    connection = createClient(url, { transport: opts.transport, token });
  };
  const client = () => connection.client;
  // With several servers a cancel goes over HTTP to a random one: often another process than the one streaming the run.
  const cancelVia = (): Client =>
    opts.urls === undefined || opts.urls.length === 0
      ? client()
      : createClient(urlFor(opts), { transport: 'sse', token }).client;
  const feedStop = new AbortController();
  const stopFeed = () => feedStop.abort();
  opts.signal.addEventListener('abort', stopFeed, { once: true });
  let feedDone: Promise<StreamLog> | undefined;
  let feedConnection: ReturnType<typeof createClient> | undefined;
  const feedLog = emptyStreamLog();
  try {
    if (opts.feed) {
      let started: () => void = () => {};
      const ready = new Promise<void>((resolve) => {
        started = resolve;
      });
      // Its own connection: closing the runs' connection on a drop completes every subscription on it (wsLink).
      feedConnection = createClient(urlFor(opts), { transport: opts.transport, token });
      const feedClient = feedConnection.client;
      const scope = log.feedScope === 'all' ? { scope: 'all' as const } : {};
      feedDone = followStream({
        subscribe: (lastEventId, cb) =>
          feedClient.runs.feed.subscribe(lastEventId === undefined ? scope : { ...scope, lastEventId }, cb),
        isFinished: () => false,
        rng: opts.rng.fork(1),
        // A feed without a position resumes live only, so it is only dropped once it has one.
        disconnectRate: 0,
        deadline: opts.deadline,
        signal: feedStop.signal,
        onStarted: started,
        log: feedLog,
      });
      await Promise.race([ready, sleep(5_000)]);
    }
    for (let i = 0; i < opts.runs && Date.now() < opts.deadline && !opts.signal.aborted; i += 1) {
      if (opts.stopStarting?.aborted === true) break;
      const run = await oneRun(opts, log, client, reconnect, cancelVia);
      if (run !== undefined) log.runs.push(run);
    }
    if (feedDone !== undefined) {
      // Let the feed catch up with the last run's events before stopping it.
      const ends = new Set(log.runs.map((r) => r.runId));
      const until = Math.min(opts.deadline, Date.now() + 10_000);
      while (Date.now() < until && ![...ends].every((id) => feedHasEnd(feedLog, id))) await sleep(50);
      log.feedCaughtUp = [...ends].every((id) => feedHasEnd(feedLog, id));
    }
  } finally {
    stopFeed();
    opts.signal.removeEventListener('abort', stopFeed);
    if (feedDone !== undefined) log.feed = await feedDone;
    feedConnection?.close();
    connection.close();
  }
  return log;
}

function feedHasEnd(feed: StreamLog, runId: string): boolean {
  return feed.events.some((e) => e.runId === runId && e.type === 'agent_completed');
}

async function oneRun(
  opts: VirtualUserOptions,
  log: UserLog,
  client: () => Client,
  reconnect: () => void,
  cancelVia: () => Client,
): Promise<RunLog | undefined> {
  const planned = planDemoRun(opts.rng, { admin: opts.admin });
  const started = await retrying(
    opts,
    log,
    'runs.start',
    (c) => c.runs.start.mutate({ agent: planned.agent, input: planned.input }),
    client,
  );
  if (started === undefined) return undefined;
  const acknowledgedAt = Date.now();
  const cancelRequested = opts.rng.chance(opts.cancelRate);
  const cancelAfter = opts.rng.int(0, 300);
  let cancelAnswer: boolean | undefined;
  let cancelMs: number | undefined;
  let cancelAskedAt: number | undefined;
  const stream = followStream({
    subscribe: (lastEventId, cb) =>
      client().runs.events.subscribe(
        { runId: started.runId, ...(lastEventId === undefined ? {} : { lastEventId }) },
        cb,
      ),
    isFinished: (events: readonly RunEvent[]) => events.at(-1)?.type === 'agent_completed',
    rng: opts.rng,
    disconnectRate: opts.disconnectRate,
    reconnect,
    deadline: opts.deadline,
    signal: opts.signal,
  });
  if (cancelRequested) {
    await sleep(cancelAfter);
    const asked = performance.now();
    cancelAskedAt = Date.now();
    cancelAnswer = (
      await retrying(opts, log, 'runs.cancel', (c) => c.runs.cancel.mutate({ runId: started.runId }), cancelVia)
    )?.cancelled;
    if (cancelAnswer !== undefined) cancelMs = Math.round(performance.now() - asked);
  }
  return {
    runId: started.runId,
    userId: opts.userId,
    agent: planned.agent,
    transport: opts.transport,
    cancelRequested,
    ...(cancelAnswer === undefined ? {} : { cancelAnswer }),
    ...(cancelMs === undefined ? {} : { cancelMs }),
    ...(cancelAskedAt === undefined ? {} : { cancelAskedAt }),
    acknowledgedAt,
    stream: await stream,
  };
}

/** A random one of `opts.urls` (another than `except` when there are several), or `opts.baseUrl`. */
function urlFor(opts: VirtualUserOptions, except?: string): string {
  const urls = opts.urls;
  if (urls === undefined || urls.length === 0) return opts.baseUrl;
  const others = urls.filter((u) => u !== except);
  return opts.rng.pick(others.length > 0 ? others : urls);
}

/**
 * Calls `call` until the server answers: a network failure (no tRPC error code: the server is down
 * or the connection was cut) is retried every 300 ms until the deadline; a refusal is recorded and
 * ends the attempt. Each try is bounded by a timeout.
 */
async function retrying<T>(
  opts: VirtualUserOptions,
  log: UserLog,
  what: string,
  call: (c: Client) => Promise<T>,
  client?: () => Client,
): Promise<T | undefined> {
  let anonymous: ReturnType<typeof createClient> | undefined;
  try {
    for (let attempt = 0; Date.now() < opts.deadline && !opts.signal.aborted; attempt += 1) {
      let c: Client;
      if (client !== undefined) c = client();
      else {
        anonymous ??= createClient(urlFor(opts), { transport: 'sse' });
        c = anonymous.client;
      }
      try {
        return await withTimeout(call(c), CALL_TIMEOUT_MS);
      } catch (error) {
        const code = error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;
        if (code !== undefined) {
          log.failures.push(`${what}: ${code}`);
          return undefined;
        }
        if (attempt === 0)
          log.failures.push(`${what}: network (${error instanceof Error ? error.message : String(error)})`);
        if (what === 'runs.start') log.ambiguousStarts += 1;
        await sleep(300);
      }
    }
    return undefined;
  } finally {
    anonymous?.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
