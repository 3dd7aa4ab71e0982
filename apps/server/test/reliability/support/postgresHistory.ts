import type { RunEvent } from '@toolrun/api';
import pg from 'pg';

/** What a cluster's PostgreSQL holds, read behind every process's back. */
export interface PostgresHistory {
  /** Every stored event in commit order (`pos`): the order every feed must follow. */
  readonly commitOrder: RunEvent[];
  /** One run's stored events in seq order, as `verifyLoad` takes them. */
  stored(runId: string): RunEvent[] | undefined;
  /** Runs by status (`completed`, `cancelled`, `interrupted`, …; `running` must be absent at the end). */
  readonly statuses: Record<string, number>;
  /** Ids of the runs still `running` (the first ten). */
  readonly running: string[];
}

/**
 * Reads the stored history straight from PostgreSQL with a plain `pg` client of the test's own: no
 * Toolrun code in between (opening it as a Toolrun database would run crash recovery and could
 * close the very runs the test wants to see). `run_events.data` is each event exactly as committed.
 */
export async function readPostgresHistory(url: string): Promise<PostgresHistory> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const events = await client.query<{ data: string }>('SELECT data FROM run_events ORDER BY pos');
    const runs = await client.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM runs GROUP BY status',
    );
    const running = await client.query<{ id: string }>("SELECT id FROM runs WHERE status = 'running' LIMIT 10");
    const commitOrder = events.rows.map((row) => JSON.parse(row.data) as RunEvent);
    const byRun = new Map<string, RunEvent[]>();
    for (const event of commitOrder) {
      const list = byRun.get(event.runId);
      if (list === undefined) byRun.set(event.runId, [event]);
      else list.push(event);
    }
    for (const list of byRun.values()) list.sort((a, b) => a.seq - b.seq);
    return {
      commitOrder,
      stored: (runId) => byRun.get(runId),
      statuses: Object.fromEntries(runs.rows.map((row) => [row.status, Number(row.n)])),
      running: running.rows.map((row) => row.id),
    };
  } finally {
    await client.end();
  }
}
