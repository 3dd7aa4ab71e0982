import type pg from 'pg';
import type { Committer } from '../committer.ts';
import type { WriteBatch } from '../writeBatch.js';
import { executeBatch } from './executeBatch.ts';

/**
 * Commits {@link WriteBatch}es on PostgreSQL, one transaction per batch on a pooled connection;
 * `done` is called after `COMMIT` (or after the rollback, with the error). Asynchronous: the
 * pipeline keeps one batch in flight, and writes that arrive meanwhile join the next one.
 */
export function createPgCommitter(pool: pg.Pool, owner: number): Committer {
  return {
    sync: false,
    commit(batch, done) {
      commitBatch(pool, batch, owner).then(
        () => done(),
        (error: unknown) => done(error),
      );
    },
    settleSync() {
      // Nothing can block this thread for PostgreSQL: the database closes through `closeAsync`.
    },
    close() {},
  };
}

async function commitBatch(pool: pg.Pool, batch: WriteBatch, owner: number): Promise<void> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query('BEGIN');
    try {
      await executeBatch(client, batch, owner);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: unknown) => {
        broken = rollback;
      });
      throw error;
    }
  } finally {
    // A connection whose rollback failed is in an unknown state: the pool drops it.
    client.release(broken instanceof Error ? broken : undefined);
  }
}
