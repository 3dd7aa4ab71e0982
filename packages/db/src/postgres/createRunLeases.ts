import type pg from 'pg';
import type { RunLeases } from '../database.ts';
import { DbError } from '../errors.ts';
import { closeOrphanedRuns } from './closeOrphanedRuns.ts';
import { PG_NOW_MS } from './pgClock.ts';

/** {@link RunLeases} plus what the database that made them needs. */
export interface PgRunLeases extends RunLeases {
  /** Stops renewing (at close). */
  stop(): void;
}

/** Refuses a lease length that is not a whole number of milliseconds, 10 or more. */
export function checkRunLeaseMs(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 10) {
    throw new DbError('INVALID_ARGUMENT', `runLeaseMs must be a whole number of milliseconds, at least 10 (got ${ms})`);
  }
  return ms;
}

/**
 * This process's run leases: every `ttlMs / 3` one statement extends, on PostgreSQL's clock, the
 * lease of every running run this process owns whose lease it still holds (an expired lease is
 * never revived: a process that paused past it has lost the run, even before a reaper closed it).
 * A renewal that fails (PostgreSQL unreachable) is retried at the next tick; leases that expire
 * meanwhile are lost.
 */
export function createRunLeases(opts: {
  pool: pg.Pool;
  owner: number;
  ttlMs: number;
  /** `false`: never renew (a test's stand-in for a paused process). */
  renew: boolean;
  now: () => number;
  resumableAgents: ReadonlySet<string>;
  /** Runs the reaper adopted (parked on approval): this process may write them again. */
  onAdopted: (runIds: readonly string[]) => void;
}): PgRunLeases {
  const { pool, owner, ttlMs } = opts;
  let renewing = false;
  const renew = async (): Promise<void> => {
    if (renewing) return;
    renewing = true;
    try {
      // Rows locked in id order, as a commit's fencing locks them: the two never deadlock.
      await pool.query(
        `UPDATE runs SET lease_expires_at = ${PG_NOW_MS} + $2::bigint
         WHERE id IN (
           SELECT id FROM runs
           WHERE owner = $1 AND status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at > ${PG_NOW_MS})
           ORDER BY id FOR UPDATE)
         AND status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at > ${PG_NOW_MS})`,
        [owner, ttlMs],
      );
    } catch {
      // PostgreSQL unreachable: the next tick tries again (healthy() reports the outage).
    } finally {
      renewing = false;
    }
  };
  const timer = opts.renew ? setInterval(() => void renew(), Math.max(1, Math.floor(ttlMs / 3))) : undefined;
  timer?.unref();
  return {
    ttlMs,
    async reapExpired() {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        const reaped = await closeOrphanedRuns({
          client,
          sweep: 'reap',
          owner,
          leaseMs: ttlMs,
          now: opts.now,
          resumableAgents: opts.resumableAgents,
        });
        if (reaped.adopted.length > 0) opts.onAdopted(reaped.adopted);
        return reaped;
      } catch (error) {
        broken = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
