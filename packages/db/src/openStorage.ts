import { openDatabase } from './client.ts';
import type { ToolrunDatabase } from './database.ts';
import { openPostgresDatabase } from './postgres/openPostgres.ts';

/** Options of {@link openStorage}. */
export interface OpenStorageOptions {
  /**
   * Where the history lives: a `postgres://` / `postgresql://` URL selects PostgreSQL; anything else
   * is a SQLite file path (or `':memory:'`).
   */
  location: string;
  /** Wall-clock milliseconds, injectable for tests. */
  now?: () => number;
  /** SQLite only: where the sink commits (see `openDatabase`). */
  writer?: 'thread' | 'inline';
  /** PostgreSQL only: connections the pool may open (default 10). */
  poolSize?: number;
  /** Agents that can resume a run parked on approval: crash recovery keeps such runs running. */
  resumableAgents?: Iterable<string>;
  /**
   * PostgreSQL only (SQLite ignores it): per-run leases of this many milliseconds, for several
   * processes on one database (see `openPostgresDatabase`). Absent: off.
   */
  runLeaseMs?: number;
}

/** Whether `location` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * Opens the Toolrun database at `location` on the backend it names: PostgreSQL for a
 * `postgres://` URL, SQLite otherwise. Both give the same {@link ToolrunDatabase}.
 *
 * @example
 * const db = await openStorage({ location: process.env.TOOLRUN_DATABASE_URL ?? './data/toolrun.db' });
 */
export async function openStorage(opts: OpenStorageOptions): Promise<ToolrunDatabase> {
  const now = {
    ...(opts.now === undefined ? {} : { now: opts.now }),
    ...(opts.resumableAgents === undefined ? {} : { resumableAgents: opts.resumableAgents }),
  };
  if (isPostgresUrl(opts.location)) {
    return openPostgresDatabase({
      url: opts.location,
      ...now,
      ...(opts.poolSize === undefined ? {} : { poolSize: opts.poolSize }),
      ...(opts.runLeaseMs === undefined ? {} : { runLeaseMs: opts.runLeaseMs }),
    });
  }
  return openDatabase({ path: opts.location, ...now, ...(opts.writer === undefined ? {} : { writer: opts.writer }) });
}
