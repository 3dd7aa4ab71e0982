import { randomInt } from 'node:crypto';
import pg from 'pg';
import { LOCK_NAMESPACE } from './migratePostgres.ts';

/** A process's lease: a session advisory lock held on a connection of its own for as long as it lives. */
export interface Lease {
  /** The lock's second key, stored as `runs.owner` in every run this process starts. */
  readonly owner: number;
  /** The lease's connection (migrations and recovery run on it too). */
  readonly client: pg.Client;
  /** Whether the connection (and so the lock) is still held. */
  alive(): boolean;
  release(): Promise<void>;
}

/**
 * Takes a lease under a fresh random key. When this process dies, its connection closes and
 * PostgreSQL releases the lock at once, which is how another process's crash recovery knows that
 * the runs this one owns are orphans (see `closeOrphanedRuns`): no clock, no heartbeat.
 */
export async function acquireLease(connectionString: string): Promise<Lease> {
  const client = new pg.Client({ connectionString, application_name: 'toolrun-lease' });
  let alive = true;
  // A dropped lease connection must not crash the process; `alive()` reports it (and /healthz with it).
  client.on('error', () => {
    alive = false;
  });
  client.on('end', () => {
    alive = false;
  });
  await client.connect();
  try {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const owner = randomInt(1, 2_147_483_647);
      const taken = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
        LOCK_NAMESPACE,
        owner,
      ]);
      if (taken.rows[0]?.ok === true) {
        return {
          owner,
          client,
          alive: () => alive,
          async release() {
            if (!alive) return;
            alive = false;
            await client.end().catch(() => {});
          },
        };
      }
    }
    throw new Error('no free lease key after 100 attempts');
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
}
