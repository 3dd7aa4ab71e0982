import { openDatabase } from '@toolrun/db';
import type { RunEvent } from '@toolrun/dispatcher';
import { syntheticRun } from '../fixtures/syntheticRun.ts';
import type { Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';
import { nowNs } from '../harness/measure.ts';
import { profileInProcess } from '../harness/profileInProcess.ts';
import { median } from '../harness/stats.ts';
import type { Figure } from '../harness/types.ts';
import { freshFile, openRaw } from '../sqlite/files.ts';
import { rawStreaming, sinkStreaming } from '../sqlite/streamingWrites.ts';

const EVENTS_PER_RUN = 5;
/** Events per transaction: runs written in the same tick are one group commit of the sink. */
const TX_SIZES = [100, 1_000] as const;

type Variant = 'sink' | 'rawSame' | 'rawEvents';

/** Writes `runs` through the persistent sink, `runsPerTx` runs per tick (one write per run); returns ns. */
async function throughSink(path: string, runs: RunEvent[][], runsPerTx: number): Promise<{ ns: number; tx: number }> {
  const db = openDatabase({ path });
  const sink = db.createPersistentSink();
  const t0 = nowNs();
  for (let i = 0; i < runs.length; i += runsPerTx) {
    await Promise.all(runs.slice(i, i + runsPerTx).map((events) => sink.write(events)));
  }
  const ns = nowNs() - t0;
  const stats = sink.stats();
  db.close();
  if (stats.events !== runs.length * EVENTS_PER_RUN) throw new Error(`the sink committed ${stats.events} events`);
  return { ns, tx: stats.transactions };
}

/**
 * The same writes with prepared statements in transactions of the same size: `same` writes every
 * row the sink derives (run row, event rows, tool-call row and its update, run finish), `events`
 * only the event rows (with foreign keys off, as they have no run row).
 */
function raw(path: string, runs: RunEvent[][], runsPerTx: number, rows: 'same' | 'events'): number {
  // Event rows without their run row only fit with foreign keys off.
  const sqlite = openRaw(path, rows === 'same');
  const insertRun = sqlite.prepare(
    "INSERT INTO runs (id, user_id, thread_id, agent, input, status, started_at, tool_calls, last_seq) VALUES (?, ?, ?, ?, ?, 'running', ?, 0, 1)",
  );
  const insertEvent = sqlite.prepare(
    'INSERT INTO run_events (run_id, seq, user_id, type, at, data) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertToolCall = sqlite.prepare(
    "INSERT INTO tool_calls (run_id, call_id, tool, input, status, started_at, start_seq) VALUES (?, ?, ?, ?, 'running', ?, ?)",
  );
  const completeToolCall = sqlite.prepare(
    "UPDATE tool_calls SET status = ?, output = ?, error = ?, finished_at = ?, duration_ms = ?, end_seq = ? WHERE run_id = ? AND call_id = ? AND status = 'running'",
  );
  const finishRun = sqlite.prepare(
    'UPDATE runs SET status = ?, result = ?, error = ?, finished_at = ?, duration_ms = ?, last_seq = ?, tool_calls = ? WHERE id = ?',
  );
  const writeRun = (events: RunEvent[]) => {
    for (const e of events) {
      const at = Date.parse(e.at);
      if (rows === 'events') {
        insertEvent.run(e.runId, e.seq, e.userId, e.type, at, JSON.stringify(e));
        continue;
      }
      switch (e.type) {
        case 'agent_started':
          insertRun.run(e.runId, e.userId, e.threadId, e.agent, JSON.stringify(e.input), at);
          insertEvent.run(e.runId, e.seq, e.userId, e.type, at, JSON.stringify(e));
          break;
        case 'agent_thinking':
          insertEvent.run(e.runId, e.seq, e.userId, e.type, at, JSON.stringify(e));
          break;
        case 'tool_executing':
          insertEvent.run(e.runId, e.seq, e.userId, e.type, at, JSON.stringify(e));
          insertToolCall.run(e.runId, e.callId, e.tool, JSON.stringify(e.input), at, e.seq);
          break;
        case 'tool_completed': {
          insertEvent.run(e.runId, e.seq, e.userId, e.type, at, JSON.stringify(e));
          const output = e.output === undefined ? null : JSON.stringify(e.output);
          const error = e.error === undefined ? null : JSON.stringify(e.error);
          completeToolCall.run(e.status, output, error, at, e.durationMs, e.seq, e.runId, e.callId);
          break;
        }
        case 'agent_completed': {
          insertEvent.run(e.runId, e.seq, e.userId, e.type, at, JSON.stringify(e));
          const result = e.result === undefined ? null : JSON.stringify(e.result);
          const error = e.error === undefined ? null : JSON.stringify(e.error);
          finishRun.run(e.status, result, error, at, e.durationMs, e.seq, e.toolCalls, e.runId);
          break;
        }
        default: {
          const never: never = e;
          throw new Error(`unknown event ${JSON.stringify(never)}`);
        }
      }
    }
  };
  const tx = sqlite.transaction((chunk: RunEvent[][]) => {
    for (const events of chunk) writeRun(events);
  });
  const t0 = nowNs();
  for (let i = 0; i < runs.length; i += runsPerTx) tx(runs.slice(i, i + runsPerTx));
  const ns = nowNs() - t0;
  sqlite.close();
  return ns;
}

/**
 * (5) The persistent sink's events per second against raw better-sqlite3 prepared statements
 * writing the same rows in transactions of the same size, in the same run, each on a fresh temp
 * file database (WAL, synchronous NORMAL).
 */
export const persistenceBenchmark: Benchmark = {
  name: 'persistence',
  title: 'persistent sink events/s vs raw better-sqlite3, same rows, same transactions',
  async run(ctx) {
    const runsPerRep = ctx.quick ? 800 : 2_400;
    const reps: number = ctx.quick ? 2 : 4;
    const rates = new Map<string, number[]>();
    const transactions = new Map<number, number[]>();
    const push = (key: string, value: number) => rates.set(key, [...(rates.get(key) ?? []), value]);
    const variants: Variant[] = ['sink', 'rawSame', 'rawEvents'];
    const deadline = Date.now() + (ctx.quick ? 4_000 : 30_000);
    for (let rep = 0; rep < reps && !ctx.signal.aborted && (rep < 1 || Date.now() < deadline); rep += 1) {
      for (const size of TX_SIZES) {
        const runsPerTx = size / EVENTS_PER_RUN;
        const startMs = Date.now();
        // One warm-up rep; later reps rotate the order so none always goes first.
        const order = variants.map((_, k) => variants[(rep + k) % variants.length] as Variant);
        for (const variant of order) {
          const runs = Array.from({ length: runsPerRep }, (_, i) =>
            syntheticRun({ index: i, userId: `user_${i % 100}`, startMs }),
          );
          const file = freshFile();
          try {
            let ns: number;
            if (variant === 'sink') {
              const result = await throughSink(file.path, runs, runsPerTx);
              ns = result.ns;
              transactions.set(size, [...(transactions.get(size) ?? []), result.tx]);
            } else {
              ns = raw(file.path, runs, runsPerTx, variant === 'rawSame' ? 'same' : 'events');
            }
            if (rep > 0 || reps === 1) push(`${variant}:${size}`, (runs.length * EVENTS_PER_RUN) / (ns / 1e9));
          } finally {
            file.remove();
          }
        }
      }
    }
    // The live-stream pattern (what the transport benchmark's server writes): one event per run per tick.
    const streamRuns = 1_000;
    const streamTicks = ctx.quick ? 5 : 20;
    const streaming = { sink: [] as number[], raw: [] as number[] };
    for (let rep = 0; rep < (ctx.quick ? 1 : 3) && !ctx.signal.aborted; rep += 1) {
      for (const variant of rep % 2 === 0 ? (['sink', 'raw'] as const) : (['raw', 'sink'] as const)) {
        const file = freshFile();
        try {
          streaming[variant].push(
            variant === 'sink'
              ? await sinkStreaming(file.path, streamRuns, streamTicks)
              : rawStreaming(file.path, streamRuns, streamTicks),
          );
        } finally {
          file.remove();
        }
      }
    }
    const rate = (variant: Variant, size: number) => median(rates.get(`${variant}:${size}`) ?? []);
    const figures: Figure[] = [];
    for (const size of TX_SIZES) {
      const sink = rate('sink', size);
      figures.push(
        figure({
          id: `persistence.sink${size}`,
          label: `persistent sink, ${size.toLocaleString('en-US')} events per transaction`,
          value: sink,
          unit: 'events/s',
          baseline: { label: 'raw prepared, same rows', value: rate('rawSame', size), unit: 'events/s' },
          target: { op: '>=', threshold: 0.5, on: 'ratio', text: '≥ 50% of raw' },
        }),
        figure({
          id: `persistence.sink${size}VsEventRows`,
          label: `same, against raw inserts of the event rows only (${size.toLocaleString('en-US')}/tx)`,
          value: sink,
          unit: 'events/s',
          baseline: {
            label: 'raw prepared, event rows only, FK off',
            value: rate('rawEvents', size),
            unit: 'events/s',
          },
        }),
      );
    }
    figures.push(
      figure({
        id: 'persistence.sinkStreaming',
        label: `persistent sink, ${streamRuns.toLocaleString('en-US')} live runs writing 1 event each per transaction`,
        value: median(streaming.sink),
        unit: 'events/s',
        baseline: {
          label: 'raw prepared, same rows (event + run last_seq)',
          value: median(streaming.raw),
          unit: 'events/s',
        },
      }),
    );
    const profile = ctx.profile
      ? await profileInProcess(ctx, 'persistence', async () => {
          const file = freshFile();
          try {
            const runs = Array.from({ length: 4_000 }, (_, i) =>
              syntheticRun({ index: i, userId: `user_${i % 100}`, startMs: Date.now() }),
            );
            await throughSink(file.path, runs, 1_000 / EVENTS_PER_RUN);
          } finally {
            file.remove();
          }
        })
      : undefined;
    return {
      figures,
      details: {
        ...(profile === undefined ? {} : { profile }),
        eventsPerMeasurement: runsPerRep * EVENTS_PER_RUN,
        samples: Object.fromEntries([...rates].map(([k, v]) => [k, v.length])),
        sinkTransactions: Object.fromEntries(transactions),
        expectedTransactions: Object.fromEntries(TX_SIZES.map((s) => [s, (runsPerRep * EVENTS_PER_RUN) / s])),
        streaming: { runs: streamRuns, ticks: streamTicks, samples: streaming.sink.length },
      },
    };
  },
};
