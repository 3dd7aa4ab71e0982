import type { RunEvent } from '@toolrun/dispatcher';
import type { PersistentSink, PersistentSinkOptions } from './persistentSink.ts';
import type { ApprovalsRepository } from './repositories/approvals.ts';
import type { AuditRecord, AuditSummary, NewAudit } from './repositories/audits.ts';
import type { FeedOptions } from './repositories/events.ts';
import type { IdempotencyKeyStore } from './repositories/idempotencyKeys.ts';
import type { QueuedRunStore } from './repositories/queuedRuns.ts';
import type { PruneOptions, PruneResult } from './repositories/retention.ts';
import type { ListRunsOptions, RunPage, RunRecord } from './repositories/runs.ts';
import type { ScratchpadStore } from './repositories/scratchpad.ts';
import type { ToolCallRecord } from './repositories/toolCalls.ts';
import type { ToolSwitchStore } from './repositories/toolSwitches.ts';

/** A run with all its stored events (seq order) and tool calls (start order). */
export interface RunDetail {
  run: RunRecord;
  events: RunEvent[];
  toolCalls: ToolCallRecord[];
}

/** What {@link ToolrunDatabase.settings} reports, per backend. */
export type DatabaseSettings =
  | {
      backend: 'sqlite';
      /** `wal` for a file, `memory` for `:memory:`. */
      journalMode: string;
      /** 1 is NORMAL. */
      synchronous: number;
      foreignKeys: boolean;
      busyTimeoutMs: number;
      /** `PRAGMA user_version`: the number of migrations applied. */
      schemaVersion: number;
    }
  | {
      backend: 'postgres';
      /** Migrations applied (rows of `drizzle.__drizzle_migrations`). */
      schemaVersion: number;
      /** The advisory-lock key this process holds while it lives (its runs' `owner`). */
      owner: number;
      /** Connections the pool may open. */
      poolSize: number;
    };

/**
 * An open Toolrun database, SQLite or PostgreSQL: the one interface the API, the server and the sink's
 * users see. Reads are promises on both backends (SQLite answers at once, PostgreSQL over the pool).
 */
export interface ToolrunDatabase {
  /** Which implementation answers. Nothing above `@toolrun/db` should need to look. */
  readonly backend: 'sqlite' | 'postgres';
  /** Events appended by crash recovery at open (empty after a clean shutdown). */
  readonly recovered: RunEvent[];
  /** The dispatcher's event sink (group commit); see {@link PersistentSink}. */
  createPersistentSink(opts?: PersistentSinkOptions): PersistentSink;
  /** The run's events after `afterSeq`, in seq order: the replay path, exact. */
  eventsAfter(runId: string, afterSeq: number, limit?: number): Promise<RunEvent[]>;
  /** A user's events (everyone's when `userId` is null) after an event id, in global commit order. */
  feedAfter(opts: FeedOptions): Promise<RunEvent[]>;
  /**
   * The id of the feed's last stored event (`userId`'s, everyone's when null), undefined when there is
   * none: where a feed opened without a position starts, so that a re-read from the database covers
   * everything committed after it subscribed.
   */
  feedHead(userId: string | null): Promise<string | undefined>;
  getRun(runId: string): Promise<RunDetail | undefined>;
  getRunRecord(runId: string): Promise<RunRecord | undefined>;
  /** Newest first; `cursor` is the previous page's `nextCursor`, stable while new runs arrive. */
  listRuns(opts: ListRunsOptions): Promise<RunPage>;
  insertAudit(audit: NewAudit): Promise<AuditRecord>;
  listAudits(opts?: { limit?: number; cursor?: string }): Promise<{ items: AuditSummary[]; nextCursor: string | null }>;
  getAudit(id: string): Promise<AuditRecord | undefined>;
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
  /** A trivial query succeeds (`false` once closed or when the server is unreachable). */
  healthy(): Promise<boolean>;
  /** The backend's settings, for diagnostics and tests. */
  settings(): Promise<DatabaseSettings>;
  /**
   * Per-run leases for several processes on one database: present on PostgreSQL opened with
   * `runLeaseMs` only (see README "Cluster support").
   */
  readonly runLeases?: RunLeases;
  /** Commits what the sinks hold, then closes (the file, or the pool). Idempotent. */
  close(): Promise<void>;
}

/**
 * Per-run leases (PostgreSQL with `runLeaseMs`): each run this process starts is held for `ttlMs`
 * on PostgreSQL's clock and renewed every `ttlMs / 3`; a commit refuses the events of runs whose
 * lease this process no longer holds (fencing, reported by the sink's `onFenced`).
 */
export interface RunLeases {
  readonly ttlMs: number;
  /**
   * Closes runs whose lease expired or whose owner's advisory lock is gone (process died), as crash
   * recovery does (`tool_completed` `cancelled` per open call, `agent_completed` `interrupted`), at
   * most one process at a time across the cluster (a transaction-level advisory try-lock: a busy
   * reaper returns empty; rows a commit holds are skipped until the next call). Returns the appended
   * events (the caller publishes them) and the parked-on-approval runs it adopted (owner = this
   * process, lease renewed), as recovery does.
   */
  reapExpired(): Promise<{ events: RunEvent[]; adopted: string[] }>;
}
