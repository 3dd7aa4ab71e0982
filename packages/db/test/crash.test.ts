import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '@toolrun/dispatcher';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/client.ts';
import { contractProblems, tempDb } from './fixtures.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const t = tempDb();
afterAll(() => t.cleanup());

/** Starts the writer, waits until it has committed `atLeast` events, SIGKILLs it; returns the last count it reported. */
async function killWriterMidway(path: string, atLeast: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/crashWriter.ts', path], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  let acknowledged = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`writer made no progress: ${stderr}`)), 45_000);
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) acknowledged = Math.max(acknowledged, Number(line));
        if (acknowledged >= atLeast) {
          clearTimeout(guard);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
    });
  } finally {
    child.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');
  return acknowledged;
}

describe('a writer killed with SIGKILL mid-write', () => {
  it('reopens to an intact database: integrity ok, no gaps, every run terminal with exactly one agent_completed', async () => {
    const acknowledged = await killWriterMidway(t.path, 1_500);

    const db = openDatabase({ path: t.path });
    const recovered = db.recovered;
    db.closeSync();
    expect(recovered.filter((e) => e.type === 'agent_completed').length).toBeGreaterThan(0);
    for (const event of recovered) {
      if (event.type === 'tool_completed') expect(event.status).toBe('cancelled');
      else if (event.type === 'agent_completed') expect(event.status).toBe('interrupted');
      else expect.unreachable(`recovery appended a ${event.type}`);
    }

    const raw = new Database(t.path, { readonly: true });
    try {
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(raw.pragma('foreign_key_check')).toEqual([]);
      const byRun = new Map<string, RunEvent[]>();
      for (const data of raw.prepare('SELECT data FROM run_events ORDER BY run_id, seq').pluck().all()) {
        const event = JSON.parse(String(data)) as RunEvent;
        byRun.set(event.runId, [...(byRun.get(event.runId) ?? []), event]);
      }
      const total = [...byRun.values()].reduce((n, events) => n + events.length, 0);
      // Every event the writer saw committed before it died is still there.
      expect(total - recovered.length).toBeGreaterThanOrEqual(acknowledged);
      const runRows = raw.prepare('SELECT id, status, last_seq AS lastSeq FROM runs').all() as {
        id: string;
        status: string;
        lastSeq: number;
      }[];
      expect(runRows.length).toBe(byRun.size);
      for (const row of runRows) {
        const events = byRun.get(row.id) ?? [];
        expect(contractProblems(events), row.id).toEqual([]);
        expect(events.filter((e) => e.type === 'agent_completed')).toHaveLength(1);
        expect(row.lastSeq).toBe(events.length);
        expect(row.status).not.toBe('running');
      }
      expect(raw.prepare("SELECT count(*) FROM tool_calls WHERE status = 'running'").pluck().get()).toBe(0);
    } finally {
      raw.close();
    }
  }, 90_000);
});
