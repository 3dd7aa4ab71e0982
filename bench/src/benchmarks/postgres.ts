import { openPostgresDatabase, openStorage } from '@toolrun/db';
import { startPostgres, type TestPostgres } from '@toolrun/db/test-support';
import type { RunEvent } from '@toolrun/dispatcher';
import pg from 'pg';
import { syntheticRun } from '../fixtures/syntheticRun.ts';
import type { BenchContext, Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';
import { nowNs } from '../harness/measure.ts';
import { median } from '../harness/stats.ts';
import type { Figure } from '../harness/types.ts';
import { startHost } from '../servers/remote.ts';
import { runScenario } from '../servers/runScenario.ts';

const EVENTS_PER_RUN = 5;
const TX_SIZES = [100, 1_000] as const;

/** Writes `runs` through the PostgreSQL persistent sink, `runsPerTx` runs per tick; returns ns. */
async function throughSink(url: string, runs: RunEvent[][], runsPerTx: number): Promise<number> {
  const db = await openPostgresDatabase({ url });
  const sink = db.createPersistentSink();
  const t0 = nowNs();
  for (let i = 0; i < runs.length; i += runsPerTx) {
    await Promise.all(runs.slice(i, i + runsPerTx).map((events) => sink.write(events)));
  }
  const ns = nowNs() - t0;
  const { events } = sink.stats();
  await db.close();
  if (events !== runs.length * EVENTS_PER_RUN) throw new Error(`the sink committed ${events} events`);
  return ns;
}

/**
 * The same rows written with raw `pg`, one transaction per `runsPerTx` runs: each finished run's
 * row, its event rows and its tool-call row, each kind in one `unnest` INSERT (the fewest round trips
 * and the least work that stores the same rows; the sink also checks every event and advances rows).
 */
async function raw(url: string, runs: RunEvent[][], runsPerTx: number): Promise<number> {
  await (await openStorage({ location: url })).close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let pos = 0;
  const t0 = nowNs();
  for (let i = 0; i < runs.length; i += runsPerTx) {
    const chunk = runs.slice(i, i + runsPerTx);
    const r: unknown[][] = Array.from({ length: 12 }, () => []);
    const e: unknown[][] = Array.from({ length: 7 }, () => []);
    const c: unknown[][] = Array.from({ length: 12 }, () => []);
    for (const events of chunk) {
      for (const ev of events) {
        pos += 1;
        const at = Date.parse(ev.at);
        for (const [k, v] of [pos, ev.runId, ev.seq, ev.userId, ev.type, at, JSON.stringify(ev)].entries())
          e[k]?.push(v);
        if (ev.type === 'tool_completed') {
          const start = events.find((x) => x.type === 'tool_executing' && x.callId === ev.callId);
          const input = start?.type === 'tool_executing' ? JSON.stringify(start.input) : 'null';
          const row = [
            ev.runId,
            ev.callId,
            ev.tool,
            input,
            ev.status,
            ev.output === undefined ? null : JSON.stringify(ev.output),
            ev.error === undefined ? null : JSON.stringify(ev.error),
            Date.parse(start?.at ?? ev.at),
            at,
            ev.durationMs,
            start?.seq ?? 0,
            ev.seq,
          ];
          for (const [k, v] of row.entries()) c[k]?.push(v);
        }
        if (ev.type === 'agent_completed') {
          const first = events[0];
          const input = first?.type === 'agent_started' ? JSON.stringify(first.input) : 'null';
          const row = [
            ev.runId,
            ev.userId,
            ev.threadId,
            first?.type === 'agent_started' ? first.agent : '',
            input,
            ev.status,
            ev.result === undefined ? null : JSON.stringify(ev.result),
            Date.parse(first?.at ?? ev.at),
            at,
            ev.durationMs,
            ev.toolCalls,
            ev.seq,
          ];
          for (const [k, v] of row.entries()) r[k]?.push(v);
        }
      }
    }
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO runs (id, user_id, thread_id, agent, input, status, result, started_at, finished_at, duration_ms, tool_calls, last_seq, owner)
       SELECT *, 1 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::float8[], $11::int[], $12::int[])`,
      r,
    );
    await client.query(
      `INSERT INTO run_events (pos, run_id, seq, user_id, type, at, data)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::text[])`,
      e,
    );
    await client.query(
      `INSERT INTO tool_calls (run_id, call_id, tool, input, status, output, error, started_at, finished_at, duration_ms, start_seq, end_seq)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::float8[], $11::int[], $12::int[])`,
      c,
    );
    await client.query('COMMIT');
  }
  const ns = nowNs() - t0;
  await client.end();
  return ns;
}

/** End to end: the server's max events/s over tRPC wsLink on `database` (a URL; SQLite when undefined). */
async function serverRate(ctx: BenchContext, users: number, url: string | undefined): Promise<number | null> {
  const host = await startHost({
    kind: 'toolrun',
    benchRoot: ctx.benchRoot,
    ...(url === undefined ? {} : { env: { BENCH_DATABASE_URL: url } }),
  });
  try {
    const total = ctx.quick ? 5_000 : 24_000;
    const result = await runScenario({
      ctx,
      host,
      transport: 'trpc-ws',
      users,
      mode: 'max',
      plan: { perRun: Math.max(1, Math.round(total / users)), burst: Math.max(1, Math.ceil(200 / users)) },
      offered: null,
      deadlineMs: 60_000,
    });
    return result.received === result.expected ? result.eventsPerSec : null;
  } finally {
    await host.close();
  }
}

/**
 * PostgreSQL storage: (1) the persistent sink's events/s against raw `pg` inserts of the same rows in
 * transactions of the same size, each on a fresh database of a throwaway server started here; (2)
 * the whole server's max events/s (tRPC wsLink, 100 users) on PostgreSQL against SQLite, same run.
 */
export const postgresBenchmark: Benchmark = {
  name: 'postgres',
  title: 'PostgreSQL: sink events/s vs raw pg, same rows; server events/s on PostgreSQL vs SQLite',
  async run(ctx) {
    let server: TestPostgres | undefined;
    try {
      server = await startPostgres();
      const runsPerRep = ctx.quick ? 400 : 2_000;
      const reps = ctx.quick ? 2 : 4;
      const rates = new Map<string, number[]>();
      const push = (key: string, value: number) => rates.set(key, [...(rates.get(key) ?? []), value]);
      for (let rep = 0; rep < reps && !ctx.signal.aborted; rep += 1) {
        for (const size of TX_SIZES) {
          const runsPerTx = size / EVENTS_PER_RUN;
          const order = rep % 2 === 0 ? (['sink', 'raw'] as const) : (['raw', 'sink'] as const);
          for (const variant of order) {
            const runs = Array.from({ length: runsPerRep }, (_, i) =>
              syntheticRun({ index: i, userId: `user_${i % 100}`, startMs: Date.now() }),
            );
            const url = await server.createDatabase();
            const ns = variant === 'sink' ? await throughSink(url, runs, runsPerTx) : await raw(url, runs, runsPerTx);
            // The first rep warms up.
            if (rep > 0) push(`${variant}:${size}`, (runs.length * EVENTS_PER_RUN) / (ns / 1e9));
          }
        }
      }
      const figures: Figure[] = TX_SIZES.map((size) =>
        figure({
          id: `postgres.sink${size}`,
          label: `PostgreSQL persistent sink, ${size.toLocaleString('en-US')} events per transaction`,
          value: median(rates.get(`sink:${size}`) ?? []),
          unit: 'events/s',
          baseline: {
            label: 'raw pg unnest inserts, same rows',
            value: median(rates.get(`raw:${size}`) ?? []),
            unit: 'events/s',
          },
          target: { op: '>=', threshold: 0.5, on: 'ratio', text: '≥ 50% of raw' },
        }),
      );
      const users = 100;
      const sqliteRate = await serverRate(ctx, users, undefined);
      const postgresRate = await serverRate(ctx, users, await server.createDatabase());
      figures.push(
        figure({
          id: 'postgres.serverEventsPerSec',
          label: `server max events/s on PostgreSQL, tRPC wsLink, ${users} users`,
          value: postgresRate,
          unit: 'events/s',
          baseline: {
            label: 'same server on SQLite (writer thread)',
            value: sqliteRate ?? Number.NaN,
            unit: 'events/s',
          },
        }),
      );
      return { figures };
    } finally {
      server?.stop();
    }
  },
};
