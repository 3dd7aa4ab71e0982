import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JsonValue, RunEvent } from '@toolrun/dispatcher';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { type Committer, createInlineCommitter } from './committer.ts';
import { DbError, toDbError } from './errors.ts';
import { createEventWriter } from './eventWriter.ts';
import { inspectFile } from './inspectFile.ts';
import { applyMigrations } from './migrate.ts';
import { type CommitPipeline, createCommitPipeline, type PersistentSink } from './persistentSink.ts';
import { recoverInterruptedRuns } from './recovery.ts';
import { type ApprovalsRepository, createApprovalsRepository } from './repositories/approvals.ts';
import { type AuditRecord, type AuditSummary, createAuditsRepository } from './repositories/audits.ts';
import { createEventsRepository, type FeedOptions } from './repositories/events.ts';
import { createIdempotencyKeyStore, type IdempotencyKeyStore } from './repositories/idempotencyKeys.ts';
import { createQueuedRunStore, type QueuedRunStore } from './repositories/queuedRuns.ts';
import { type PruneOptions, type PruneResult, pruneHistory } from './repositories/retention.ts';
import { createRunsRepository, type ListRunsOptions, type RunPage, type RunRecord } from './repositories/runs.ts';
import { createSqliteScratchpad, type ScratchpadStore } from './repositories/scratchpad.ts';
import { createToolCallsRepository, type ToolCallRecord } from './repositories/toolCalls.ts';
import { createSqliteToolSwitches, type ToolSwitchStore } from './repositories/toolSwitches.ts';
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

/** A run with all its stored events (seq order) and tool calls (start order). */
export interface RunDetail {
  run: RunRecord;
  events: RunEvent[];
  toolCalls: ToolCallRecord[];
}

/** What {@link ToolrunDatabase.settings} reports. */
export interface DatabaseSettings {
  /** `wal` for a file, `memory` for `:memory:`. */
  journalMode: string;
  /** 1 is NORMAL. */
  synchronous: number;
  foreignKeys: boolean;
  busyTimeoutMs: number;
  /** `PRAGMA user_version`: the number of migrations applied. */
  schemaVersion: number;
}

/** An open Toolrun database. One per process and file; all methods are synchronous reads unless noted. */
export interface ToolrunDatabase {
  /** Events appended by crash recovery at open (empty after a clean shutdown). */
  readonly recovered: RunEvent[];
  /** The dispatcher's event sink (group commit); see {@link PersistentSink}. */
  createPersistentSink(opts?: { onCommitted?: (events: readonly RunEvent[]) => void }): PersistentSink;
  /** The run's events after `afterSeq`, in seq order: the replay path, exact. */
  eventsAfter(runId: string, afterSeq: number, limit?: number): RunEvent[];
  /** A user's events (everyone's when `userId` is null) after an event id, in global commit order. */
  feedAfter(opts: FeedOptions): RunEvent[];
  getRun(runId: string): RunDetail | undefined;
  getRunRecord(runId: string): RunRecord | undefined;
  /** Newest first; `cursor` is the previous page's `nextCursor`, stable while new runs arrive. */
  listRuns(opts: ListRunsOptions): RunPage;
  insertAudit(audit: { ranBy: string; params: JsonValue; report: JsonValue; violations: number }): AuditRecord;
  listAudits(opts?: { limit?: number; cursor?: string }): { items: AuditSummary[]; nextCursor: string | null };
  getAudit(id: string): AuditRecord | undefined;
  readonly scratchpad: ScratchpadStore;
  /** Human approvals of tool calls: the dispatcher's `ApprovalStore`, listings, parked runs. */
  readonly approvals: ApprovalsRepository;
  /** The admin kill switch per tool, durable and audited. */
  readonly toolSwitches: ToolSwitchStore;
  /** `runs.start` idempotency keys (see `repositories/idempotencyKeys.ts`). */
  readonly idempotencyKeys: IdempotencyKeyStore;
  /** Runs waiting in their user's queue (see `repositories/queuedRuns.ts`). */
  readonly queuedRuns: QueuedRunStore;
  /** Deletes finished runs older than `olderThanMs` in bounded batches; see `pruneHistory`. */
  prune(opts: PruneOptions): Promise<PruneResult>;
  /** `SELECT 1` succeeds. */
  healthy(): boolean;
  /** The connection's settings as SQLite reports them, for diagnostics (`/healthz`) and tests. */
  settings(): DatabaseSettings;
  /** Commits what the sinks hold, then closes the file. Idempotent. */
  close(): void;
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
export function openDatabase(opts: OpenDatabaseOptions): ToolrunDatabase {
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
      const created = createEventWriter(sqlite);
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

  return {
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
      return pipeline.createSink(sinkOpts.onCommitted);
    },
    eventsAfter(runId, afterSeq, limit) {
      ensureOpen();
      return events.after(runId, afterSeq, limit);
    },
    feedAfter(feedOpts) {
      ensureOpen();
      return events.feedAfter(feedOpts);
    },
    getRun(runId) {
      ensureOpen();
      const run = runs.get(runId);
      if (run === undefined) return undefined;
      return { run, events: events.after(runId, 0), toolCalls: calls.forRun(runId) };
    },
    getRunRecord(runId) {
      ensureOpen();
      return runs.get(runId);
    },
    listRuns(listOpts) {
      ensureOpen();
      return runs.list(listOpts);
    },
    insertAudit(audit) {
      ensureOpen();
      return audits.insert(audit);
    },
    listAudits(listOpts) {
      ensureOpen();
      return audits.list(listOpts);
    },
    getAudit(id) {
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
      create: (approval) => {
        ensureOpen();
        approvalRows.create(approval);
      },
      settle: (id, settlement) => {
        ensureOpen();
        return approvalRows.settle(id, settlement);
      },
      get: (id) => {
        ensureOpen();
        return approvalRows.get(id);
      },
      list: (listOpts) => {
        ensureOpen();
        return approvalRows.list(listOpts);
      },
      parkedRuns: () => {
        ensureOpen();
        return approvalRows.parkedRuns();
      },
    },
    toolSwitches: {
      current: () => (closed ? closedPromise() : toolSwitches.current()),
      record: (change) => (closed ? closedPromise() : toolSwitches.record(change)),
      history: (historyOpts) => (closed ? closedPromise() : toolSwitches.history(historyOpts)),
    },
    idempotencyKeys: {
      claim(record, expiredBefore) {
        ensureOpen();
        return keys.claim(record, expiredBefore);
      },
      release(userId, key, runId) {
        ensureOpen();
        keys.release(userId, key, runId);
      },
      prune(cutoff) {
        ensureOpen();
        return keys.prune(cutoff);
      },
    },
    queuedRuns: {
      insert(record) {
        ensureOpen();
        queued.insert(record);
      },
      delete(runId) {
        ensureOpen();
        return queued.delete(runId);
      },
      all() {
        ensureOpen();
        return queued.all();
      },
    },
    async prune(pruneOpts) {
      ensureOpen();
      return pruneHistory(db, { ...pruneOpts, now, ensureOpen });
    },
    healthy() {
      if (closed) return false;
      try {
        return sqlite.prepare('SELECT 1').pluck().get() === 1;
      } catch {
        return false;
      }
    },
    settings() {
      ensureOpen();
      return {
        journalMode: String(sqlite.pragma('journal_mode', { simple: true })),
        synchronous: Number(sqlite.pragma('synchronous', { simple: true })),
        foreignKeys: sqlite.pragma('foreign_keys', { simple: true }) === 1,
        busyTimeoutMs: Number(sqlite.pragma('busy_timeout', { simple: true })),
        schemaVersion: Number(sqlite.pragma('user_version', { simple: true })),
      };
    },
    close() {
      if (closed) return;
      pipeline?.close();
      closed = true;
      sqlite.close();
    },
  };
}

function closedPromise(): Promise<never> {
  return Promise.reject(new DbError('CLOSED', 'the database is closed'));
}
