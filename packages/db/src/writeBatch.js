// Plain JavaScript (typed by writeBatch.d.ts, checked by tsc through checkJs) because the writer
// thread loads it natively: vitest's TypeScript transform does not reach worker threads.

/** Rows per multi-row INSERT: 6 columns × 100 rows = 600 variables, far below SQLite's limit. */
const CHUNK_ROWS = 100;

/**
 * The columns of each row kind, in the order a {@link WriteBatch} flattens them. Every kind's
 * statement takes exactly these values, per row.
 */
export const WIDTHS = {
  runs: 8,
  events: 6,
  callStarts: 6,
  callEnds: 8,
  runUpdates: 3,
  runFinishes: 8,
};

const INSERT_RUN =
  'INSERT INTO runs (id, user_id, thread_id, agent, input, status, started_at, last_seq, tool_calls) VALUES ';
const INSERT_EVENT = 'INSERT INTO run_events (run_id, seq, user_id, type, at, data) VALUES ';
const INSERT_CALL = 'INSERT INTO tool_calls (run_id, call_id, tool, input, status, started_at, start_seq) VALUES ';
const COMPLETE_CALL =
  "UPDATE tool_calls SET status = ?, output = ?, error = ?, finished_at = ?, duration_ms = ?, end_seq = ? WHERE run_id = ? AND call_id = ? AND status = 'running'";
const FINISH_RUN =
  'UPDATE runs SET status = ?, result = ?, error = ?, finished_at = ?, duration_ms = ?, last_seq = ?, tool_calls = ? WHERE id = ?';

/** @param {number} rows @param {string} row */
function values(rows, row) {
  return Array.from({ length: rows }, () => row).join(', ');
}

/** @type {Record<'runs' | 'events' | 'callStarts' | 'runUpdates', (rows: number) => string>} */
const MULTI_ROW_SQL = {
  runs: (rows) => INSERT_RUN + values(rows, "(?, ?, ?, ?, ?, 'running', ?, ?, ?)"),
  events: (rows) => INSERT_EVENT + values(rows, '(?, ?, ?, ?, ?, ?)'),
  callStarts: (rows) => INSERT_CALL + values(rows, "(?, ?, ?, ?, 'running', ?, ?)"),
  // One UPDATE … FROM (VALUES …) advances many runs; `v.column3` is the run id (a primary-key lookup).
  runUpdates: (rows) =>
    `UPDATE runs SET last_seq = v.column1, tool_calls = v.column2 FROM (VALUES ${values(rows, '(?, ?, ?)')}) AS v WHERE runs.id = v.column3`,
};

/**
 * Prepares the write statements on `sqlite` and returns an executor of {@link WriteBatch}es. Call
 * `execute` inside a transaction: it throws (and the caller rolls back) on any SQLite failure, or
 * when a tool call the batch completes is not open in the table (the caller's state was stale).
 *
 * @param {import('better-sqlite3').Database} sqlite
 * @returns {import('./writeBatch.js').BatchExecutor}
 */
export function createBatchExecutor(sqlite) {
  /** @type {Map<string, import('better-sqlite3').Statement<unknown[]>>} */
  const multiRow = new Map();
  /** @param {keyof typeof MULTI_ROW_SQL} kind @param {number} rows */
  const statementFor = (kind, rows) => {
    const key = `${kind}:${rows}`;
    let stmt = multiRow.get(key);
    if (stmt === undefined) {
      stmt = sqlite.prepare(MULTI_ROW_SQL[kind](rows));
      multiRow.set(key, stmt);
    }
    return stmt;
  };
  const completeCall = sqlite.prepare(COMPLETE_CALL);
  const finishRun = sqlite.prepare(FINISH_RUN);

  /** @param {keyof typeof MULTI_ROW_SQL} kind @param {readonly unknown[]} flat */
  const insertChunked = (kind, flat) => {
    const width = WIDTHS[kind];
    const rows = flat.length / width;
    for (let first = 0; first < rows; first += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, rows - first);
      statementFor(kind, count).run(flat.slice(first * width, (first + count) * width));
    }
  };

  return {
    execute(batch) {
      // Order matters: run rows before the rows that reference them, tool calls opened before closed.
      insertChunked('runs', batch.runs);
      insertChunked('events', batch.events);
      insertChunked('callStarts', batch.callStarts);
      const endWidth = WIDTHS.callEnds;
      for (let i = 0; i < batch.callEnds.length; i += endWidth) {
        const { changes } = completeCall.run(batch.callEnds.slice(i, i + endWidth));
        if (changes !== 1) throw new Error(`tool call ${String(batch.callEnds[i + 7])} is not open in the table`);
      }
      insertChunked('runUpdates', batch.runUpdates);
      const finishWidth = WIDTHS.runFinishes;
      for (let i = 0; i < batch.runFinishes.length; i += finishWidth) {
        finishRun.run(batch.runFinishes.slice(i, i + finishWidth));
      }
    },
  };
}
