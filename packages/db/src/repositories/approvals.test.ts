import type { NewApproval } from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/backends.ts';
import { RunBuilder } from '../../test/fixtures.ts';

function approval(over: Partial<NewApproval> & Pick<NewApproval, 'id' | 'runId' | 'callId'>): NewApproval {
  return {
    userId: 'alice',
    tool: 'transfer_funds',
    input: { amount: 5, token: '[REDACTED]' },
    callInput: { amount: 5, token: 'secret-value' },
    roles: ['user'],
    approvers: 'owner',
    createdAt: 1_000,
    expiresAt: 61_000,
    ...over,
  };
}

describe.each(BACKENDS)('approvals on $name', (backend) => {
  it('settles by compare-and-set: the first settlement wins, later ones change nothing; the unredacted input goes', async () => {
    const db = await backend.open();
    await db.approvals.create(approval({ id: 'a1', runId: 'r1', callId: 'c1' }));
    expect(await db.approvals.get('a1')).toMatchObject({
      status: 'pending',
      input: { amount: 5, token: '[REDACTED]' },
      inputHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(await db.approvals.parkedRuns()).toEqual([]);
    expect(await db.approvals.settle('a1', { state: 'approved', decidedBy: 'alice', at: 2_000 })).toBe(true);
    expect(await db.approvals.settle('a1', { state: 'expired', at: 2_001 })).toBe(false);
    expect(await db.approvals.settle('nope', { state: 'denied', at: 2_001 })).toBe(false);
    expect(await db.approvals.get('a1')).toMatchObject({ status: 'approved', decidedBy: 'alice' });
    expect(JSON.stringify(await db.approvals.get('a1'))).not.toContain('secret-value');
    expect(await backend.sql(db.location, 'SELECT count(*) FROM approvals WHERE call_input IS NOT NULL')).toEqual([
      backend.name === 'sqlite' ? 0 : '0',
    ]);
  });

  it('lets exactly one of many racing decisions win', async () => {
    const db = await backend.open();
    await db.approvals.create(approval({ id: 'race', runId: 'r1', callId: 'c1' }));
    const states = ['approved', 'denied', 'expired', 'cancelled'] as const;
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        db.approvals.settle('race', {
          state: states[i % states.length] ?? 'denied',
          decidedBy: `u${i}`,
          at: 2_000 + i,
        }),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const winner = outcomes.indexOf(true);
    expect(await db.approvals.get('race')).toMatchObject({
      status: states[winner % states.length],
      decidedBy: `u${winner}`,
    });
  });

  it('lists one user’s approvals newest first, by status and run, in pages', async () => {
    const db = await backend.open();
    for (let i = 0; i < 5; i += 1) {
      await db.approvals.create(approval({ id: `a${i}`, runId: `r${i % 2}`, callId: `c${i}`, createdAt: 1_000 + i }));
    }
    await db.approvals.create(approval({ id: 'b1', runId: 'rb', callId: 'cb', userId: 'bob' }));
    await db.approvals.settle('a4', { state: 'denied', decidedBy: 'alice', at: 9 });
    const first = await db.approvals.list({ userId: 'alice', limit: 2 });
    expect(first.items.map((a) => a.id)).toEqual(['a4', 'a3']);
    const second = await db.approvals.list({ userId: 'alice', limit: 2, cursor: first.nextCursor ?? '' });
    expect(second.items.map((a) => a.id)).toEqual(['a2', 'a1']);
    expect((await db.approvals.list({ userId: 'alice', status: 'pending' })).items).toHaveLength(4);
    expect((await db.approvals.list({ userId: 'alice', runId: 'r1' })).items.map((a) => a.id)).toEqual(['a3', 'a1']);
    expect((await db.approvals.list({ userId: 'bob' })).items.map((a) => a.id)).toEqual(['b1']);
    expect((await db.approvals.list({})).items).toHaveLength(6);
    await expect(db.approvals.list({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
  });

  it('leaves a resumable run parked on approval running (closing its other open calls), interrupts the rest and cancels their approvals', async () => {
    const location = await backend.fresh();
    const first = await backend.open(location);
    const sink = first.createPersistentSink();
    const parked = new RunBuilder({ runId: 'run-parked', userId: 'alice' });
    parked.started('payout', { amount: 5 });
    const waiting = parked.toolExecuting('transfer_funds', { amount: 5 });
    const busy = parked.toolExecuting('search');
    const stuck = new RunBuilder({ runId: 'run-stuck', userId: 'alice' });
    stuck.started('research');
    const stuckCall = stuck.toolExecuting('transfer_funds', { amount: 7 });
    await Promise.all([sink.write(parked.events), sink.write(stuck.events)]);
    await first.approvals.create(approval({ id: 'ap-parked', runId: 'run-parked', callId: waiting }));
    await first.approvals.create(approval({ id: 'ap-stuck', runId: 'run-stuck', callId: stuckCall }));
    await first.close();

    const second = await backend.open(location, { resumableAgents: ['payout'] });
    const closedCalls = second.recovered.filter((e) => e.type === 'tool_completed').map((e) => e.callId);
    expect(closedCalls).toEqual([busy, stuckCall]);
    expect(second.recovered.filter((e) => e.type === 'agent_completed').map((e) => e.runId)).toEqual(['run-stuck']);
    expect(await second.getRunRecord('run-parked')).toMatchObject({ status: 'running', lastSeq: 4 });
    expect((await second.approvals.get('ap-parked'))?.status).toBe('pending');
    expect(await second.approvals.get('ap-stuck')).toMatchObject({
      status: 'cancelled',
      reason: 'the server stopped while this approval was pending',
    });
    expect(await second.approvals.parkedRuns()).toEqual([
      {
        runId: 'run-parked',
        userId: 'alice',
        threadId: 'thread-of-run-parked',
        agent: 'payout',
        roles: ['user'],
        input: { amount: 5 },
        startedAtMs: expect.any(Number),
        lastSeq: 4,
        toolCalls: 2,
        pending: [
          {
            approvalId: 'ap-parked',
            callId: waiting,
            tool: 'transfer_funds',
            callInput: { amount: 5, token: 'secret-value' },
            expiresAtMs: 61_000,
          },
        ],
      },
    ]);
  });

  it('deletes the approvals of pruned runs with them', async () => {
    const db = await backend.open(undefined, { now: () => Date.UTC(2026, 6, 1) });
    const run = new RunBuilder({ runId: 'old', userId: 'alice', startMs: Date.UTC(2026, 0, 1) });
    run.started();
    const call = run.toolExecuting('transfer_funds');
    run.toolCompleted(call);
    run.completed();
    await db.createPersistentSink().write(run.events);
    await db.approvals.create(approval({ id: 'ap-old', runId: 'old', callId: call }));
    await db.approvals.create(approval({ id: 'ap-other', runId: 'other', callId: 'c' }));
    expect(await db.prune({ olderThanMs: 86_400_000 })).toMatchObject({ runs: 1 });
    expect(await db.approvals.get('ap-old')).toBeUndefined();
    expect(await db.approvals.get('ap-other')).toBeDefined();
  });
});
