import type pg from 'pg';
import { type RunState, type RunStateCache, type RunStateRow, toRunState } from '../runStateCache.ts';

/**
 * The run states a PostgreSQL batch needs and the cache lacks, loaded before the batch is checked
 * (lookups are asynchronous here; the checks are not). `loader` is the cache's miss path.
 */
export interface PgRunStates {
  loader(runId: string): RunState | undefined;
  /** Loads every run of `runIds` the cache does not hold, forgetting the previous batch's loads. */
  load(db: pg.Pool | pg.ClientBase, cache: RunStateCache, runIds: readonly string[]): Promise<void>;
}

/** See {@link PgRunStates}. */
export function createPgRunStates(): PgRunStates {
  let loaded = new Map<string, RunState>();
  return {
    loader: (runId) => loaded.get(runId),
    async load(db, cache, runIds) {
      // Loads are valid for one check only: afterwards the cache (or the tables) are the truth.
      loaded = new Map();
      const missing = runIds.filter((id) => cache.get(id) === undefined);
      if (missing.length === 0) return;
      const runRows = await db.query<RunStateRow & { id: string }>(
        `SELECT id, user_id AS "userId", thread_id AS "threadId", status, last_seq AS "lastSeq", tool_calls AS "toolCalls"
         FROM runs WHERE id = ANY($1::text[])`,
        [missing],
      );
      const running = runRows.rows.filter((r) => r.status === 'running').map((r) => r.id);
      const callRows =
        running.length === 0
          ? []
          : (
              await db.query<{ runId: string; callId: string; tool: string; status: string }>(
                'SELECT run_id AS "runId", call_id AS "callId", tool, status FROM tool_calls WHERE run_id = ANY($1::text[])',
                [running],
              )
            ).rows;
      const next = new Map<string, RunState>();
      for (const row of runRows.rows) {
        const { id, ...fields } = row;
        next.set(
          id,
          toRunState(
            fields,
            callRows.filter((c) => c.runId === id),
          ),
        );
      }
      loaded = next;
    },
  };
}
