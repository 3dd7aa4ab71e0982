import { randomInt } from 'node:crypto';
import pg from 'pg';
import { LOCK_NAMESPACE } from './migratePostgres.ts';

/**
 * SQL: the lease keys some session on this database holds right now, i.e. the `owner`s whose process
 * lives (`owner::bigint NOT IN (…)` finds a dead one's rows).
 */
export const LIVE_OWNERS = `SELECT l.objid::bigint FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = ${LOCK_NAMESPACE}::bigint::oid`;

/** A process's lease: a session advisory lock held on a connection of its own for as long as it lives. */
export interface Lease {
  /** The lock's second key, stored as `runs.owner` in every run this process starts. */
  readonly owner: number;
  /** The lease's current connection (migrations and recovery run on it at open). */
  readonly client: pg.Client;
  /** Whether the lock is held right now (false while the connection is down and being re-established). */
  alive(): boolean;
  /**
   * `LISTEN`s on `channel` on the lease connection (the process's one long-lived session) and calls
   * `onNotify` per notification, and once after each reconnection (notifications sent while the
   * connection was down are lost: the listener must re-read). `ready` resolves once the `LISTEN` is
   * in force (or the connection is down, when the reconnection takes over): a read made after it
   * misses no change, since any later one is notified. `close` unsubscribes.
   */
  listen(channel: string, onNotify: () => void): { ready: Promise<void>; close(): void };
  release(): Promise<void>;
}

/** Options of {@link acquireLease}. */
export interface LeaseOptions {
  /** First wait before reconnecting after the lease connection dropped (default 100 ms), doubled per failure. */
  reconnectMinMs?: number;
  /** Longest wait between reconnection attempts (default 5 s). */
  reconnectMaxMs?: number;
}

/**
 * Takes a lease under a fresh random key. When this process dies, its connection closes and
 * PostgreSQL releases the lock at once, which is how another process's crash recovery knows that
 * the runs this one owns are orphans (see `closeOrphanedRuns`): no clock, no heartbeat.
 *
 * When the connection drops while the process lives (PostgreSQL restarted, a network cut), the lease
 * reconnects with exponential backoff and re-takes the same key, so the process keeps its runs'
 * owner. Meanwhile `alive()` is false (and `/healthz` with it), and another process may have closed
 * or taken those runs: with run leases on, fencing refuses this process's later writes to them.
 */
export async function acquireLease(connectionString: string, opts: LeaseOptions = {}): Promise<Lease> {
  const minMs = opts.reconnectMinMs ?? 100;
  const maxMs = opts.reconnectMaxMs ?? 5_000;
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString, application_name: 'toolrun-lease' });
    // A dropped lease connection must not crash the process: `lost` below handles it.
    client.on('error', () => {});
    await client.connect();
    return client;
  };
  const tryLock = async (client: pg.Client, key: number): Promise<boolean> => {
    const taken = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
      LOCK_NAMESPACE,
      key,
    ]);
    return taken.rows[0]?.ok === true;
  };

  let client = await connect();
  let owner = 0;
  try {
    for (let attempt = 0; attempt < 100 && owner === 0; attempt += 1) {
      const key = randomInt(1, 2_147_483_647);
      if (await tryLock(client, key)) owner = key;
    }
    if (owner === 0) throw new Error('no free lease key after 100 attempts');
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }

  let alive = true;
  let released = false;
  const listeners = new Map<string, Set<() => void>>();
  const call = (fns: Iterable<() => void>): void => {
    for (const fn of [...fns]) {
      try {
        fn();
      } catch (thrown) {
        process.emitWarning(
          `a notification listener threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
          {
            code: 'TOOLRUN_DB_LISTENER',
          },
        );
      }
    }
  };
  const listenOn = (target: pg.Client, channel: string): Promise<unknown> =>
    // A channel name is an identifier: quoted, as pg_notify's argument is taken verbatim.
    target.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
  let timer: NodeJS.Timeout | undefined;
  let delay = minMs;
  const watch = (watched: pg.Client): void => {
    const lost = (): void => {
      if (watched !== client || released) return;
      alive = false;
      schedule();
    };
    watched.on('error', lost);
    watched.on('end', lost);
    watched.on('notification', (message) => {
      const fns = listeners.get(message.channel);
      if (fns !== undefined) call(fns);
    });
  };
  const schedule = (): void => {
    if (released || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void reconnect();
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, maxMs);
  };
  const reconnect = async (): Promise<void> => {
    let next: pg.Client | undefined;
    try {
      next = await connect();
      // False while PostgreSQL still holds the old session's lock (it has not noticed the cut yet).
      if (!(await tryLock(next, owner))) throw new Error(`lease key ${owner} is still held`);
    } catch {
      await next?.end().catch(() => {});
      schedule();
      return;
    }
    if (released) {
      await next.end().catch(() => {});
      return;
    }
    try {
      for (const channel of listeners.keys()) await listenOn(next, channel);
    } catch {
      await next.end().catch(() => {});
      schedule();
      return;
    }
    client = next;
    watch(next);
    alive = true;
    delay = minMs;
    // Whatever was notified while the connection was down is lost: every listener re-reads.
    for (const fns of listeners.values()) call(fns);
  };
  watch(client);

  return {
    owner,
    get client() {
      return client;
    },
    alive: () => alive,
    listen(channel, onNotify) {
      let fns = listeners.get(channel);
      let ready: Promise<void> = Promise.resolve();
      if (fns === undefined) {
        fns = new Set();
        listeners.set(channel, fns);
        // Down right now (or failing): the reconnection LISTENs and then calls every listener.
        if (alive)
          ready = listenOn(client, channel).then(
            () => {},
            () => {},
          );
      }
      fns.add(onNotify);
      const registered = fns;
      return {
        ready,
        close() {
          registered.delete(onNotify);
        },
      };
    },
    async release() {
      if (released) return;
      released = true;
      alive = false;
      if (timer !== undefined) clearTimeout(timer);
      await client.end().catch(() => {});
    },
  };
}
