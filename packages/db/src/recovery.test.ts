import { afterEach, describe, expect, it } from 'vitest';
import { makeRun, RunBuilder, tempDb } from '../test/fixtures.ts';
import { openDatabase } from './client.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('crash recovery at open', () => {
  it('closes open tool calls as cancelled, then ends the run interrupted, with the next seqs and full envelopes', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const start = Date.UTC(2026, 2, 1);
    const first = openDatabase({ path: t.path });
    const sink = first.createPersistentSink();
    const run = new RunBuilder({ runId: 'run-x', userId: 'u1', threadId: 'th-1', startMs: start });
    run.started();
    const slow = run.toolExecuting('slow');
    const fast = run.toolExecuting('fast');
    run.toolCompleted(fast);
    const stillOpen = run.toolExecuting('later');
    const bare = new RunBuilder({ runId: 'run-y', userId: 'u2', startMs: start });
    bare.started();
    const finished = makeRun({ runId: 'run-z', userId: 'u1', startMs: start });
    await Promise.all([sink.write(run.events), sink.write(bare.events), sink.write(finished)]);
    // The process "dies" here: the runs never get their agent_completed.
    first.close();

    const recoveredAt = start + 60_000;
    const second = openDatabase({ path: t.path, now: () => recoveredAt });
    const at = new Date(recoveredAt).toISOString();
    const envelope = { runId: 'run-x', userId: 'u1', threadId: 'th-1', at };
    expect(second.recovered).toEqual([
      {
        ...envelope,
        id: 'run-x:6',
        seq: 6,
        type: 'tool_completed',
        callId: slow,
        tool: 'slow',
        status: 'cancelled',
        error: { code: 'INTERRUPTED', message: expect.any(String) },
        durationMs: recoveredAt - (start + 1),
      },
      {
        ...envelope,
        id: 'run-x:7',
        seq: 7,
        type: 'tool_completed',
        callId: stillOpen,
        tool: 'later',
        status: 'cancelled',
        error: { code: 'INTERRUPTED', message: expect.any(String) },
        durationMs: recoveredAt - (start + 4),
      },
      {
        ...envelope,
        id: 'run-x:8',
        seq: 8,
        type: 'agent_completed',
        status: 'interrupted',
        error: { code: 'INTERRUPTED', message: expect.any(String) },
        durationMs: 60_000,
        toolCalls: 3,
      },
      {
        runId: 'run-y',
        userId: 'u2',
        threadId: 'thread-of-run-y',
        at,
        id: 'run-y:2',
        seq: 2,
        type: 'agent_completed',
        status: 'interrupted',
        error: { code: 'INTERRUPTED', message: expect.any(String) },
        durationMs: 60_000,
        toolCalls: 0,
      },
    ]);
    expect(second.eventsAfter('run-x', 5)).toEqual(second.recovered.slice(0, 3));
    expect(second.getRunRecord('run-x')).toMatchObject({ status: 'interrupted', lastSeq: 8, toolCalls: 3 });
    expect(second.getRun('run-x')?.toolCalls.map((c) => c.status)).toEqual(['cancelled', 'success', 'cancelled']);
    expect(second.getRunRecord('run-z')?.status).toBe('completed');
    expect(second.eventsAfter('run-z', 0)).toEqual(finished);
    second.close();

    const third = openDatabase({ path: t.path });
    expect(third.recovered).toEqual([]);
    third.close();
  });
});
