import type { RunEvent } from '@toolrun/dispatcher';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { DatabaseSettings, RunDetail, ToolrunDatabase } from '../database.ts';
import { DbError, toDbError } from '../errors.ts';
import { createEventWriter } from '../eventWriter.ts';
import { type CommitPipeline, createCommitPipeline } from '../persistentSink.ts';
import { createRunStateCache } from '../runStateCache.ts';
import { closeOrphanedRuns } from './closeOrphanedRuns.ts';
import { createPgCommitter } from './createPgCommitter.ts';
import { checkRunLeaseMs, createRunLeases, type PgRunLeases } from './createRunLeases.ts';
import { acquireLease } from './lease.ts';
import { knownPgMigrations, migratePostgres } from './migratePostgres.ts';
import { createPgApprovals } from './pgApprovals.ts';
import { createPgReads } from './pgReads.ts';
import { createPgRunStates } from './pgRunStates.ts';
import { createPgIdempotencyKeys, createPgQueuedRuns } from './pgStarts.ts';
import { createPgAudits, createPgScratchpad, prunePg } from './pgStores.ts';
import { createPgToolSwitches } from './pgToolSwitches.ts';
import * as schema from './schema.ts';

/** Options of {@link openPostgresDatabase}. */
export interface OpenPostgresOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://…`). */
  url: string;
  /** Wall-clock milliseconds, injectable for tests: recovery events, prune cutoff, audit and scratchpad times. */
  now?: () => number;
  /** Connections the pool may open (default 10); the lease holds one more. */
  poolSize?: number;
  /**
   * Agents that can resume a run parked on approval: crash recovery keeps such orphaned runs
   * running, adopted by this process (`parkedRuns()`), as on SQLite.
   */
  resumableAgents?: Iterable<string>;
  /**
   * Per-run leases (cluster mode): each run this process starts is held for this many milliseconds on
   * PostgreSQL's clock, renewed every third of it; commits refuse the events of runs whose lease is
   * lost (the sink's `onFenced`), and `runLeases.reapExpired()` closes expired runs. Absent: off, as
   * in single mode (a run is held for as long as its process's lease lock).
   */
  runLeaseMs?: number;
  /** Test hook: `false` never renews the run leases (a paused process, as the others see it). Default true. */
  renewRunLeases?: boolean;
}

/** The PostgreSQL {@link ToolrunDatabase}. */
export interface PostgresDatabase extends ToolrunDatabase {
  readonly backend: 'postgres';
  /** This process's lease key: the `owner` of the runs it writes. */
  readonly owner: number;
}

/**
 * Opens a Toolrun database on PostgreSQL: takes this process's lease (a session advisory lock),
 * applies the committed migrations under the migration lock (refusing a foreign or newer database
 * untouched), closes the runs of processes that died (crash recovery), and opens a pool for the
 * sink and the reads. Several processes may open one database at once.
 *
 * @example
 * const db = await openPostgresDatabase({ url: 'postgres://toolrun@127.0.0.1:5432/toolrun' });
 */
export async function openPostgresDatabase(opts: OpenPostgresOptions): Promise<PostgresDatabase> {
  const now = opts.now ?? Date.now;
  const poolSize = opts.poolSize ?? 10;
  const leaseMs = opts.runLeaseMs === undefined ? undefined : checkRunLeaseMs(opts.runLeaseMs);
  const resumableAgents = new Set(opts.resumableAgents ?? []);
  let lease: Awaited<ReturnType<typeof acquireLease>>;
  try {
    lease = await acquireLease(opts.url);
  } catch (error) {
    throw toDbError(error, 'WRITE_FAILED');
  }
  const pool = new pg.Pool({ connectionString: opts.url, max: poolSize, application_name: 'toolrun' });
  // An idle client's error (the server restarted) must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const states = createPgRunStates();
  const cache = createRunStateCache(states.loader);
  const writer = createEventWriter(cache);
  let recovered: RunEvent[];
  let schemaVersion: number;
  try {
    schemaVersion = await migratePostgres(lease.client);
    ({ events: recovered } = await closeOrphanedRuns({
      client: lease.client,
      sweep: 'recovery',
      owner: lease.owner,
      leaseMs,
      now,
      resumableAgents,
    }));
  } catch (error) {
    await pool.end().catch(() => {});
    await lease.release();
    throw toDbError(error, 'WRITE_FAILED');
  }
  const db = drizzle({ client: pool, schema });
  const reads = createPgReads(db);
  const audits = createPgAudits(db, now);
  const scratchpad = createPgScratchpad(db, now);
  const approvals = createPgApprovals(db, lease.owner);
  const toolSwitches = createPgToolSwitches(db, now, (channel, onNotify) => lease.listen(channel, onNotify));
  const keys = createPgIdempotencyKeys(db);
  const queued = createPgQueuedRuns(db, lease.owner);
  let pipeline: CommitPipeline | undefined;
  const runLeases: PgRunLeases | undefined =
    leaseMs === undefined
      ? undefined
      : createRunLeases({
          pool,
          owner: lease.owner,
          ttlMs: leaseMs,
          renew: opts.renewRunLeases ?? true,
          now,
          resumableAgents,
          onAdopted(runIds) {
            // Adopted runs are this process's again: whatever it knew of them is stale.
            for (const runId of runIds) cache.delete(runId);
            pipeline?.unfence(runIds);
          },
        });
  let closed = false;
  let closing: Promise<void> | undefined;
  const ensureOpen = (): void => {
    if (closed) throw new DbError('CLOSED', 'the database is closed');
  };
  /** Runs a read on an open database; a driver failure becomes `UNAVAILABLE`. */
  const read = async <T>(fn: () => Promise<T>): Promise<T> => {
    ensureOpen();
    try {
      return await fn();
    } catch (error) {
      throw toDbError(error, 'UNAVAILABLE');
    }
  };
  const guarded =
    <A extends unknown[], T>(fn: (...args: A) => Promise<T>) =>
    (...args: A) =>
      read(() => fn(...args));

  return {
    backend: 'postgres',
    owner: lease.owner,
    recovered,
    createPersistentSink(sinkOpts = {}) {
      ensureOpen();
      pipeline ??= createCommitPipeline({
        writer,
        committer: createPgCommitter(pool, { owner: lease.owner, leaseMs }),
        prepare: (runIds) => states.load(pool, cache, runIds),
      });
      return pipeline.createSink(sinkOpts);
    },
    eventsAfter: guarded(reads.eventsAfter),
    feedAfter: guarded(reads.feedAfter),
    feedHead: guarded(reads.feedHead),
    getRun: (runId) =>
      read(async (): Promise<RunDetail | undefined> => {
        const run = await reads.getRun(runId);
        if (run === undefined) return undefined;
        const [events, toolCalls] = await Promise.all([reads.eventsAfter(runId, 0), reads.toolCallsOf(runId)]);
        return { run, events, toolCalls };
      }),
    getRunRecord: guarded(reads.getRun),
    listRuns: guarded(reads.listRuns),
    insertAudit: guarded(audits.insert),
    listAudits: guarded(audits.list),
    getAudit: guarded(audits.get),
    scratchpad: {
      get: guarded(scratchpad.get),
      set: guarded(scratchpad.set),
      delete: guarded(scratchpad.delete),
      list: guarded(scratchpad.list),
    },
    approvals: {
      create: guarded(approvals.create),
      settle: guarded(approvals.settle),
      get: guarded(approvals.get),
      list: guarded(approvals.list),
      parkedRuns: guarded(approvals.parkedRuns),
    },
    toolSwitches: {
      current: guarded(toolSwitches.current),
      record: guarded(toolSwitches.record),
      history: guarded(toolSwitches.history),
      watch: (onChange) => toolSwitches.watch(onChange),
    },
    idempotencyKeys: {
      claim: guarded(keys.claim),
      release: guarded(keys.release),
      prune: guarded(keys.prune),
    },
    queuedRuns: {
      insert: guarded(queued.insert),
      delete: guarded(queued.delete),
      all: guarded(queued.all),
      get: guarded(queued.get),
      take: guarded(queued.take),
      untake: guarded(queued.untake),
      renew: guarded(queued.renew),
      takeLost: guarded(queued.takeLost),
      claim: guarded(queued.claim),
    },
    ...(runLeases === undefined
      ? {}
      : { runLeases: { ttlMs: runLeases.ttlMs, reapExpired: () => read(() => runLeases.reapExpired()) } }),
    prune: (pruneOpts) => read(() => prunePg(db, { ...pruneOpts, now, ensureOpen })),
    async healthy() {
      if (closed || !lease.alive()) return false;
      try {
        const result = await pool.query<{ one: number }>('SELECT 1 AS one');
        // Asked again after the round trip: a cut lease connection may only be noticed meanwhile.
        return result.rows[0]?.one === 1 && lease.alive();
      } catch {
        return false;
      }
    },
    async settings(): Promise<DatabaseSettings> {
      ensureOpen();
      return {
        backend: 'postgres',
        schemaVersion: schemaVersion || knownPgMigrations().length,
        owner: lease.owner,
        poolSize,
      };
    },
    close() {
      closing ??= (async () => {
        await pipeline?.closeAsync();
        closed = true;
        runLeases?.stop();
        await pool.end().catch(() => {});
        await lease.release();
      })();
      return closing;
    },
  };
}
