import type { RunEvent } from '@toolrun/dispatcher';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { RunBuilder, tempDb } from '../test/fixtures.ts';
import { openDatabase } from './client.ts';
import { createEventWriter } from './eventWriter.ts';
import { createRunStateCache, sqliteRunStateLoader } from './runStateCache.ts';
import { createBatchExecutor } from './writeBatch.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('event writer', () => {
  it('validates runs evicted from its state cache against the tables, open tool calls included', () => {
    const t = tempDb();
    openDatabase({ path: t.path }).closeSync();
    const sqlite = new Database(t.path);
    cleanups.push(() => {
      sqlite.close();
      t.cleanup();
    });
    // A cache of one run: every switch between runs is a miss that reloads from the tables.
    const writer = createEventWriter(createRunStateCache(sqliteRunStateLoader(sqlite), 1));
    const executor = createBatchExecutor(sqlite);
    const write = (events: RunEvent[]) => {
      const draft = writer.begin();
      draft.add(events);
      sqlite.transaction(() => executor.execute(draft.build()))();
      draft.committed();
    };
    const check = (events: RunEvent[]) => writer.begin().add(events);
    const a = new RunBuilder({ runId: 'a', userId: 'u1' });
    const b = new RunBuilder({ runId: 'b', userId: 'u2' });
    write([a.started()]);
    write([b.started()]);
    const callA = a.toolExecuting('search');
    write(a.events.slice(1));
    write([b.thinking()]);
    // Evicted and reloaded: the open call is known, a duplicate callId is not accepted, nor is a gap.
    const dup = { ...a.events[1], seq: 3, id: 'a:3' } as RunEvent;
    expect(() => check([dup])).toThrow(expect.objectContaining({ code: 'INVALID_EVENT' }));
    expect(() => check([b.events[1] as RunEvent])).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER' }));
    const finishA = [a.toolCompleted(callA), a.completed()];
    write([b.thinking()]);
    write(finishA);
    expect(() => check([a.thinking()])).toThrow(expect.objectContaining({ code: 'RUN_FINISHED' }));
    const rows = sqlite
      .prepare('SELECT id, status, last_seq AS lastSeq, tool_calls AS toolCalls FROM runs ORDER BY id')
      .all();
    expect(rows).toEqual([
      { id: 'a', status: 'completed', lastSeq: 4, toolCalls: 1 },
      { id: 'b', status: 'running', lastSeq: 3, toolCalls: 0 },
    ]);
  });
});
