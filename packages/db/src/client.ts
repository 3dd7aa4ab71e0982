import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { type Committer, createInlineCommitter } from './committer.ts';
import type { DatabaseSettings, RunDetail, ToolrunDatabase } from './database.ts';

export type { DatabaseSettings, RunDetail, ToolrunDatabase } from './database.ts';

import { DbError, toDbError } from './errors.ts';
import { createEventWriter } from './eventWriter.ts';
import { inspectFile } from './inspectFile.ts';
import { applyMigrations } from './migrate.ts';
import { type CommitPipeline, createCommitPipeline } from './persistentSink.ts';
import { recoverInterruptedRuns } from './recovery.ts';
import { createApprovalsRepository } from './repositories/approvals.ts';
import { createAuditsRepository } from './repositories/audits.ts';
import { createEventsRepository } from './repositories/events.ts';
import { createIdempotencyKeyStore } from './repositories/idempotencyKeys.ts';
import { createQueuedRunStore, queuedRunRecordOf } from './repositories/queuedRuns.ts';
import { pruneHistory } from './repositories/retention.ts';
import { createRunsRepository } from './repositories/runs.ts';
import { createSqliteScratchpad } from './repositories/scratchpad.ts';
import { createToolCallsRepository } from './repositories/toolCalls.ts';
import { createSqliteToolSwitches } from './repositories/toolSwitches.ts';
import { createRunStateCache, sqliteRunStateLoader } from './runStateCache.ts';
import * as schema from './schema.ts';
import { createThreadCommitter } from './threadCommitter.ts';
import { createBatchExecutor } from './writeBatch.js';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** A file path (its folder is created) or `':memory:'`. */
  path: string;
  /** Wall-clock milliseconds, injectable for tests: recovery events, prune cutoff, audit and scratchpad times. */
  now?: () => number;
  /** How long a statement waits for another connection's lock (default 5,000 ms). */
  busyTimeoutMs?: number;
  /**
   * Where the persistent sink commits. `'thread'` (the default for a file): a worker thread with its
   * own connection, so commits and WAL checkpoints leave the event loop; this thread still checks
   * every write and does all reads. `'inline'` (always for `':memory:'`, which a thread cannot
   * share): on this thread, synchronously.
   */
  writer?: 'thread' | 'inline';
  /**
   * Agents that can resume a run parked on approval (they define `resume`): crash recovery leaves
   * such runs `running` for the server to resume (README "Approvals"). Empty by default.
   */
  resumableAgents?: Iterable<string>;
}

/** The SQLite {@link ToolrunDatabase}: it can also close synchronously (its writes are committed before `closeSync` returns). */
export interface SqliteDatabase extends ToolrunDatabase {
  readonly backend: 'sqlite';
  /** Commits what the sinks hold (waiting for the writer thread), then closes the file, before returning. Idempotent. */
  closeSync(): void;
}

/**
 * Opens (creating if needed) a Toolrun database: refuses a foreign or newer file untouched
 * ({@link DbError} `NOT_TOOLRUN_DATABASE` / `NEWER_SCHEMA`), sets WAL, busy timeout, foreign keys
 * and synchronous NORMAL, applies the committed drizzle-kit migrations and runs crash recovery.
 *
 * @example
 * const db = openDatabase({ path: './data/toolrun.db' });
 * const sink = db.createPersistentSink({ onCommitted: (events) => hub.publish(events) });
 */
export function openDatabase(opts: OpenDatabaseOptions): SqliteDatabase {
  const now = opts.now ?? Date.now;
  const state = inspectFile(opts.path);
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5_000;
  const inMemory = opts.path === ':memory:' || opts.path === '';
  if (opts.path !== ':memory:' && opts.path !== '') mkdirSync(dirname(opts.path), { recursive: true });
  const sqlite = new Database(opts.path, { timeout: busyTimeoutMs });
  const db = drizzle({ client: sqlite, schema });
  const { writer, recovered } = (() => {
    try {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
      applyMigrations(sqlite, { fresh: state === 'fresh' });
      const created = createEventWriter(createRunStateCache(sqliteRunStateLoader(sqlite)));
      const executor = createBatchExecutor(sqlite);
      const resumableAgents = new Set(opts.resumableAgents ?? []);
      return {
        writer: created,
        recovered: recoverInterruptedRuns({ db, writer: created, executor, now, resumableAgents }),
      };
    } catch (error) {
      sqlite.close();
      throw toDbError(error, 'WRITE_FAILED');
    }
  })();

  const runs = createRunsRepository(db);
  const events = createEventsRepository(db);
  const calls = createToolCallsRepository(db);
  const audits = createAuditsRepository(db, now);
  let pipeline: CommitPipeline | undefined;
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new DbError('CLOSED', 'the database is closed');
  };
  const scratchpad = createSqliteScratchpad(db, now);
  const approvalRows = createApprovalsRepository(db);
  const toolSwitches = createSqliteToolSwitches(db, now);
  const keys = createIdempotencyKeyStore(db);
  const queued = createQueuedRunStore(db);

  const closeSync = (): void => {
    if (closed) return;
    pipeline?.close();
    closed = true;
    sqlite.close();
  };

  return {
    backend: 'sqlite',
    recovered,
    createPersistentSink(sinkOpts = {}) {
      ensureOpen();
      if (pipeline === undefined) {
        let inlineCommitter: Committer | undefined;
        const inline = (): Committer => {
          inlineCommitter ??= createInlineCommitter(sqlite);
          return inlineCommitter;
        };
        if (inMemory || opts.writer === 'inline') pipeline = createCommitPipeline({ writer, committer: inline() });
        else {
          const committer = createThreadCommitter({ path: opts.path, busyTimeoutMs, fallback: inline });
          // The batches that outgrew the thread are committed inline (the backlog bound).
          pipeline = createCommitPipeline({ writer, committer, overflow: inline() });
        }
      }
      return pipeline.createSink(sinkOpts);
    },
    // The reads are synchronous here; `async` makes them the promises the interface promises, and
    // turns a thrown DbError into a rejection as PostgreSQL's would be.
    async eventsAfter(runId, afterSeq, limit) {
      ensureOpen();
      return events.after(runId, afterSeq, limit);
    },
    async feedAfter(feedOpts) {
      ensureOpen();
      return events.feedAfter(feedOpts);
    },
    async feedHead(userId) {
      ensureOpen();
      return events.feedHead(userId);
    },
    async getRun(runId): Promise<RunDetail | undefined> {
      ensureOpen();
      const run = runs.get(runId);
      if (run === undefined) return undefined;
      return { run, events: events.after(runId, 0), toolCalls: calls.forRun(runId) };
    },
    async getRunRecord(runId) {
      ensureOpen();
      return runs.get(runId);
    },
    async listRuns(listOpts) {
      ensureOpen();
      return runs.list(listOpts);
    },
    async insertAudit(audit) {
      ensureOpen();
      return audits.insert(audit);
    },
    async listAudits(listOpts) {
      ensureOpen();
      return audits.list(listOpts);
    },
    async getAudit(id) {
      ensureOpen();
      return audits.get(id);
    },
    scratchpad: {
      get: (userId, key) => (closed ? closedPromise() : scratchpad.get(userId, key)),
      set: (userId, key, value) => (closed ? closedPromise() : scratchpad.set(userId, key, value)),
      delete: (userId, key) => (closed ? closedPromise() : scratchpad.delete(userId, key)),
      list: (userId) => (closed ? closedPromise() : scratchpad.list(userId)),
    },
    approvals: {
      async create(approval) {
        ensureOpen();
        approvalRows.create(approval);
      },
      async settle(id, settlement) {
        ensureOpen();
        return approvalRows.settle(id, settlement);
      },
      async get(id) {
        ensureOpen();
        return approvalRows.get(id);
      },
      async list(listOpts) {
        ensureOpen();
        return approvalRows.list(listOpts);
      },
      async parkedRuns() {
        ensureOpen();
        return approvalRows.parkedRuns();
      },
    },
    toolSwitches: {
      current: () => (closed ? closedPromise() : toolSwitches.current()),
      record: (change) => (closed ? closedPromise() : toolSwitches.record(change)),
      history: (historyOpts) => (closed ? closedPromise() : toolSwitches.history(historyOpts)),
      watch: (onChange) => toolSwitches.watch(onChange),
    },
    idempotencyKeys: {
      async claim(record, expiredBefore) {
        ensureOpen();
        return keys.claim(record, expiredBefore);
      },
      async release(userId, key, runId) {
        ensureOpen();
        keys.release(userId, key, runId);
      },
      async prune(cutoff) {
        ensureOpen();
        return keys.prune(cutoff);
      },
    },
    queuedRuns: {
      async insert(record) {
        ensureOpen();
        queued.insert(record);
      },
      async delete(runId) {
        ensureOpen();
        return queued.delete(runId);
      },
      async all() {
        ensureOpen();
        return queued.all();
      },
      async get(runId) {
        ensureOpen();
        return queued.get(runId);
      },
      async take(runId) {
        ensureOpen();
        return queued.take(runId);
      },
      async untake(runId) {
        ensureOpen();
        queued.untake(runId);
      },
      // One process per file: nobody else takes runs over.
      async renew() {
        ensureOpen();
      },
      // One process per file: nobody else takes runs.
      async takeLost() {
        ensureOpen();
        return [];
      },
      // One process per file: the whole queue is this process's.
      async claim() {
        ensureOpen();
        return queued.all().map(queuedRunRecordOf);
      },
    },
    async prune(pruneOpts) {
      ensureOpen();
      return pruneHistory(db, { ...pruneOpts, now, ensureOpen });
    },
    async healthy() {
      if (closed) return false;
      try {
        return sqlite.prepare('SELECT 1').pluck().get() === 1;
      } catch {
        return false;
      }
    },
    async settings(): Promise<DatabaseSettings> {
      ensureOpen();
      return {
        backend: 'sqlite',
        journalMode: String(sqlite.pragma('journal_mode', { simple: true })),
        synchronous: Number(sqlite.pragma('synchronous', { simple: true })),
        foreignKeys: sqlite.pragma('foreign_keys', { simple: true }) === 1,
        busyTimeoutMs: Number(sqlite.pragma('busy_timeout', { simple: true })),
        schemaVersion: Number(sqlite.pragma('user_version', { simple: true })),
      };
    },
    async close() {
      closeSync();
    },
    closeSync,
  };
}

function closedPromise(): Promise<never> {
  return Promise.reject(new DbError('CLOSED', 'the database is closed'));
}
