export type { OpenDatabaseOptions, SqliteDatabase } from './client.ts';
export { openDatabase } from './client.ts';
export type { DatabaseSettings, RunDetail, RunLeases, ToolrunDatabase } from './database.ts';
export type { DbErrorCode } from './errors.ts';
export { DB_ERROR_CODES, DbError, isDbError } from './errors.ts';
export { TOOLRUN_APPLICATION_ID } from './migrate.ts';
export type { OpenStorageOptions } from './openStorage.ts';
export { isPostgresUrl, openStorage } from './openStorage.ts';
export type { PersistentSink, PersistentSinkOptions, SinkStats } from './persistentSink.ts';
export type { OpenPostgresOptions, PostgresDatabase } from './postgres/openPostgres.ts';
export { openPostgresDatabase } from './postgres/openPostgres.ts';
export { INTERRUPTED } from './recovery.ts';
export type {
  ApprovalPage,
  ApprovalRecord,
  ApprovalsRepository,
  ListApprovalsOptions,
} from './repositories/approvals.ts';
export type { AuditRecord, AuditSummary, NewAudit } from './repositories/audits.ts';
export type { FeedOptions } from './repositories/events.ts';
export type { IdempotencyKeyStore, IdempotencyRecord } from './repositories/idempotencyKeys.ts';
export type { QueuedRunRecord, QueuedRunRow, QueuedRunStore } from './repositories/queuedRuns.ts';
export { queuedRunRecordOf } from './repositories/queuedRuns.ts';
export type { PruneOptions, PruneResult } from './repositories/retention.ts';
export type { ListRunsOptions, RunPage, RunRecord } from './repositories/runs.ts';
export type { ScratchpadStore } from './repositories/scratchpad.ts';
export { MAX_SCRATCHPAD_KEY_LENGTH } from './repositories/scratchpad.ts';
export type { ToolCallRecord } from './repositories/toolCalls.ts';
export type { ToolSwitchRecord, ToolSwitchStore } from './repositories/toolSwitches.ts';
export { MAX_SWITCH_REASON_LENGTH } from './repositories/toolSwitches.ts';
export type { RunRecordStatus, ToolCallRecordStatus } from './schema.ts';
