import type { Transport } from '../../helpers.ts';
import { createRandom } from './random.ts';
import type { UserLog } from './virtualUser.ts';
import { runVirtualUser } from './virtualUser.ts';

/** Options of {@link runLoad}. */
export interface LoadOptions {
  baseUrl: string;
  /** Several server processes (a cluster's API processes): every user spreads its connections over them (see `VirtualUserOptions.urls`). */
  urls?: readonly string[];
  /** Prefix of the virtual users' ids (`${prefix}-${n}`), so several loads on one server do not mix. */
  userPrefix: string;
  users: number;
  runsPerUser: number;
  /** Users active at once; the next one starts when one finishes. */
  concurrentUsers: number;
  cancelRate: number;
  disconnectRate: number;
  seed: number;
  /** Hang guard: every user stops at this epoch time. */
  deadline: number;
  signal: AbortSignal;
  /** Aborted to let every user finish its current run and start no more (and no new user to arrive). */
  stopStarting?: AbortSignal;
  /** Every `adminEvery`-th user is an admin (and may start the admin agent); 0 for none. */
  adminEvery?: number;
  /** Every `feedEvery`-th user also follows its own feed; 0 for none. */
  feedEvery?: number;
  /** Admins also follow every user's feed (`runs.feed` `scope: 'all'`) for their whole session. */
  adminFeed?: boolean;
  onUserDone?: (done: number) => void;
}

/**
 * Drives `users` virtual users against a server, at most `concurrentUsers` at a time (new users
 * arrive as others leave, so 1,000 users fit a 2-core machine), half over SSE and half over
 * WebSocket. Resolves with every user's log; never rejects.
 */
export async function runLoad(opts: LoadOptions): Promise<UserLog[]> {
  const rng = createRandom(opts.seed);
  const logs: UserLog[] = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const n = next;
      next += 1;
      if (n >= opts.users || Date.now() >= opts.deadline || opts.signal.aborted || opts.stopStarting?.aborted) return;
      const userRng = rng.fork(n);
      const transport: Transport = n % 2 === 0 ? 'sse' : 'ws';
      const admin = opts.adminEvery !== undefined && opts.adminEvery > 0 && n % opts.adminEvery === opts.adminEvery - 1;
      const allFeed = admin && opts.adminFeed === true;
      const feed = allFeed || (opts.feedEvery !== undefined && opts.feedEvery > 0 && n % opts.feedEvery === 0);
      logs.push(
        await runVirtualUser({
          baseUrl: opts.baseUrl,
          ...(opts.urls === undefined ? {} : { urls: opts.urls }),
          userId: `${opts.userPrefix}-${n}`,
          admin,
          transport,
          rng: userRng,
          runs: opts.runsPerUser,
          cancelRate: opts.cancelRate,
          disconnectRate: opts.disconnectRate,
          feed,
          feedScope: allFeed ? 'all' : 'own',
          deadline: opts.deadline,
          signal: opts.signal,
          ...(opts.stopStarting === undefined ? {} : { stopStarting: opts.stopStarting }),
        }),
      );
      opts.onUserDone?.(logs.length);
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.min(opts.concurrentUsers, opts.users); i += 1) {
    workers.push(worker());
    // A short ramp, so a thousand sign-ins do not all land in the same millisecond.
    if (i % 20 === 19) await sleep(20);
  }
  await Promise.all(workers);
  return logs;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
