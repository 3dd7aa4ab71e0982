import { openDatabase } from '@toolrun/db';
import type { RunEvent } from '@toolrun/dispatcher';
import { syntheticRun } from '../fixtures/syntheticRun.ts';
import { nowNs } from '../harness/measure.ts';
import { openRaw } from './files.ts';

/**
 * The write pattern of many live streams: `runs` running runs, each writing ONE `agent_thinking`
 * event per tick (as 1,000 users' agents thinking at once do), so that each group commit holds
 * one event of every run. The runs' `agent_started` rows are written first, untimed.
 */
function streams(runs: number, ticks: number): { started: RunEvent[]; ticks: RunEvent[][] } {
  const startMs = Date.now();
  const started = Array.from({ length: runs }, (_, i) => syntheticRun({ index: i, userId: `user_${i}`, startMs })[0]);
  const first = started.filter((e): e is RunEvent => e !== undefined);
  const text = (syntheticRun({ index: 0, userId: 'x', startMs })[1] as Extract<RunEvent, { type: 'agent_thinking' }>)
    .text;
  const perTick = Array.from({ length: ticks }, (_, t) =>
    first.map((s): RunEvent => {
      const seq = t + 2;
      const { runId, userId, threadId } = s;
      const at = new Date(startMs + seq).toISOString();
      return { id: `${runId}:${seq}`, seq, runId, userId, threadId, at, type: 'agent_thinking', text, step: t + 1 };
    }),
  );
  return { started: first, ticks: perTick };
}

/** Streaming writes through the persistent sink; returns events per second. */
export async function sinkStreaming(path: string, runs: number, ticks: number): Promise<number> {
  const load = streams(runs, ticks);
  const db = openDatabase({ path });
  try {
    const sink = db.createPersistentSink();
    await Promise.all(load.started.map((e) => sink.write([e])));
    const t0 = nowNs();
    for (const tick of load.ticks) await Promise.all(tick.map((e) => sink.write([e])));
    const ns = nowNs() - t0;
    const expected = runs * (ticks + 1);
    if (sink.stats().events !== expected) throw new Error(`the sink committed ${sink.stats().events} of ${expected}`);
    return (runs * ticks) / (ns / 1e9);
  } finally {
    db.close();
  }
}

/** The same rows with prepared statements, one transaction per tick: each event's row and its run's `last_seq`. */
export function rawStreaming(path: string, runs: number, ticks: number): number {
  const load = streams(runs, ticks);
  const sqlite = openRaw(path, true);
  try {
    const insertRun = sqlite.prepare(
      "INSERT INTO runs (id, user_id, thread_id, agent, input, status, started_at, tool_calls, last_seq) VALUES (?, ?, ?, ?, ?, 'running', ?, 0, 1)",
    );
    const insertEvent = sqlite.prepare(
      'INSERT INTO run_events (run_id, seq, user_id, type, at, data) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const advanceRun = sqlite.prepare('UPDATE runs SET last_seq = ?, tool_calls = ? WHERE id = ?');
    sqlite.transaction(() => {
      for (const e of load.started) {
        if (e.type !== 'agent_started') continue;
        const at = Date.parse(e.at);
        insertRun.run(e.runId, e.userId, e.threadId, e.agent, JSON.stringify(e.input), at);
        insertEvent.run(e.runId, e.seq, e.userId, e.type, at, JSON.stringify(e));
      }
    })();
    const tick = sqlite.transaction((events: RunEvent[]) => {
      for (const e of events) {
        insertEvent.run(e.runId, e.seq, e.userId, e.type, Date.parse(e.at), JSON.stringify(e));
        advanceRun.run(e.seq, 0, e.runId);
      }
    });
    const t0 = nowNs();
    for (const events of load.ticks) tick(events);
    return (runs * ticks) / ((nowNs() - t0) / 1e9);
  } finally {
    sqlite.close();
  }
}
