import type pg from 'pg';
import type { Committer } from '../committer.ts';
import type { WriteBatch } from '../writeBatch.js';
import { executeBatch } from './executeBatch.ts';
import { fenceBatch } from './fenceBatch.ts';

/**
 * Commits {@link WriteBatch}es on PostgreSQL, one transaction per batch on a pooled connection;
 * `done` is called after `COMMIT` (or after the rollback, with the error). Asynchronous: the
 * pipeline keeps one batch in flight, and writes that arrive meanwhile join the next one.
 *
 * With run leases (`leaseMs`), new runs get a lease and each transaction first fences (see
 * `fenceBatch`): the rows of runs this process no longer holds are left out, and `done` names them.
 */
export function createPgCommitter(pool: pg.Pool, writer: { owner: number; leaseMs: number | undefined }): Committer {
  return {
    sync: false,
    commit(batch, done) {
      commitBatch(pool, batch, writer).then(
        (fenced) => done(undefined, fenced),
        (error: unknown) => done(error),
      );
    },
    settleSync() {
      // Nothing can block this thread for PostgreSQL: the database closes through `closeAsync`.
    },
    close() {},
  };
}

async function commitBatch(
  pool: pg.Pool,
  batch: WriteBatch,
  writer: { owner: number; leaseMs: number | undefined },
): Promise<Set<string> | undefined> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query('BEGIN');
    try {
      let fenced: Set<string> | undefined;
      let rows = batch;
      if (writer.leaseMs !== undefined) ({ batch: rows, fenced } = await fenceBatch(client, batch, writer.owner));
      await executeBatch(client, rows, writer);
      await client.query('COMMIT');
      return fenced;
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
