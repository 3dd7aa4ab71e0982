import type Database from 'better-sqlite3';

/** A SQLite value as a {@link WriteBatch} carries it. */
export type SqlValue = string | number | null;

/**
 * Everything one group commit writes, as flat rows of SQLite values (structured-clone friendly, so
 * it crosses to the writer thread cheaply). Each array holds `WIDTHS[kind]` values per row:
 *
 * - `runs`: `id, user_id, thread_id, agent, input, started_at, last_seq, tool_calls` (new runs);
 * - `events`: `run_id, seq, user_id, type, at, data`, in commit order (so `pos` is commit order);
 * - `callStarts`: `run_id, call_id, tool, input, started_at, start_seq`;
 * - `callEnds`: `status, output, error, finished_at, duration_ms, end_seq, run_id, call_id`;
 * - `runUpdates`: `last_seq, tool_calls, id`, once per still-running run the batch advanced;
 * - `runFinishes`: `status, result, error, finished_at, duration_ms, last_seq, tool_calls, id`.
 */
export interface WriteBatch {
  runs: SqlValue[];
  events: SqlValue[];
  callStarts: SqlValue[];
  callEnds: SqlValue[];
  runUpdates: SqlValue[];
  runFinishes: SqlValue[];
}

/** Executes batches with statements prepared on one connection; see {@link createBatchExecutor}. */
export interface BatchExecutor {
  /** Writes the batch; call inside a transaction. Throws on any failure (the caller rolls back). */
  execute(batch: WriteBatch): void;
}

/** Values per row of each {@link WriteBatch} array. */
export declare const WIDTHS: { readonly [K in keyof WriteBatch]: number };

/** Prepares the write statements on `sqlite` (multi-row INSERTs, chunked under SQLite's variable limit). */
export declare function createBatchExecutor(sqlite: Database.Database): BatchExecutor;
