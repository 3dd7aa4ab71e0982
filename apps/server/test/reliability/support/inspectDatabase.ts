import Database from 'better-sqlite3';

/** What a Toolrun database file holds, read without changing it. */
export interface DatabaseInspection {
  /** `PRAGMA integrity_check`: `ok` when the file is sound. */
  integrity: string;
  runs: number;
  /** Runs still marked running (a crash left them; the next start closes them as interrupted). */
  running: number;
  events: number;
  /** Finished runs whose events do not end with exactly one agent_completed. */
  notTerminal: number;
  /** Runs whose stored seqs are not exactly 1…lastSeq (a gap or a duplicate). */
  seqGaps: number;
}

/**
 * Opens a Toolrun SQLite file read-only (its WAL included) and checks it: integrity, how many runs
 * and events it holds, how many runs are still marked running, and whether every run's stored
 * events are seq 1…lastSeq with, once finished, exactly one agent_completed last. Never writes, so
 * it can look at the file exactly as a crash left it.
 */
export function inspectDatabase(path: string): DatabaseInspection {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      integrity: rows.map((r) => r.integrity_check).join('; '),
      runs: count('SELECT count(*) AS n FROM runs'),
      running: count("SELECT count(*) AS n FROM runs WHERE status = 'running'"),
      events: count('SELECT count(*) AS n FROM run_events'),
      notTerminal: count(`SELECT count(*) AS n FROM runs r WHERE r.status != 'running' AND (
        (SELECT count(*) FROM run_events e WHERE e.run_id = r.id AND e.type = 'agent_completed') != 1
        OR (SELECT e.type FROM run_events e WHERE e.run_id = r.id ORDER BY e.seq DESC LIMIT 1) != 'agent_completed')`),
      seqGaps:
        count(`SELECT count(*) AS n FROM runs r WHERE r.last_seq != (SELECT count(DISTINCT e.seq) FROM run_events e WHERE e.run_id = r.id)
        OR r.last_seq != (SELECT max(e.seq) FROM run_events e WHERE e.run_id = r.id)
        OR (SELECT min(e.seq) FROM run_events e WHERE e.run_id = r.id) != 1`),
    };
  } finally {
    db.close();
  }
}
