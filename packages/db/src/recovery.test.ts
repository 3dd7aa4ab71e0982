import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../test/backends.ts';
import { makeRun, RunBuilder } from '../test/fixtures.ts';

describe.each(BACKENDS)('crash recovery at open on $name', (backend) => {
  it('closes open tool calls as cancelled, then ends the run interrupted, with the next seqs and full envelopes', async () => {
    const location = await backend.fresh();
    const start = Date.UTC(2026, 2, 1);
    const first = await backend.open(location);
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
    await first.close();

    const recoveredAt = start + 60_000;
    const second = await backend.open(location, { now: () => recoveredAt });
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
    expect(await second.eventsAfter('run-x', 5)).toEqual(second.recovered.slice(0, 3));
    expect(await second.getRunRecord('run-x')).toMatchObject({ status: 'interrupted', lastSeq: 8, toolCalls: 3 });
    expect((await second.getRun('run-x'))?.toolCalls.map((c) => c.status)).toEqual([
      'cancelled',
      'success',
      'cancelled',
    ]);
    expect((await second.getRunRecord('run-z'))?.status).toBe('completed');
    expect(await second.eventsAfter('run-z', 0)).toEqual(finished);
    await second.close();

    const third = await backend.open(location);
    expect(third.recovered).toEqual([]);
  });
});
