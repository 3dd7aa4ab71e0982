import type { NewApproval } from '@toolrun/dispatcher';
import { afterEach, describe, expect, it } from 'vitest';
import { RunBuilder, tempDb } from '../../test/fixtures.ts';
import { openDatabase } from '../client.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

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

describe('approvals repository', () => {
  it('settles by compare-and-set: the first settlement wins, later ones change nothing; the unredacted input goes', () => {
    const db = openDatabase({ path: ':memory:' });
    cleanups.push(() => db.close());
    db.approvals.create(approval({ id: 'a1', runId: 'r1', callId: 'c1' }));
    expect(db.approvals.get('a1')).toMatchObject({
      status: 'pending',
      input: { amount: 5, token: '[REDACTED]' },
      inputHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(db.approvals.parkedRuns()).toEqual([]);
    expect(db.approvals.settle('a1', { state: 'approved', decidedBy: 'alice', at: 2_000 })).toBe(true);
    expect(db.approvals.settle('a1', { state: 'expired', at: 2_001 })).toBe(false);
    expect(db.approvals.settle('nope', { state: 'denied', at: 2_001 })).toBe(false);
    expect(db.approvals.get('a1')).toMatchObject({ status: 'approved', decidedBy: 'alice' });
    expect(JSON.stringify(db.approvals.get('a1'))).not.toContain('secret-value');
  });

  it('lists one user’s approvals newest first, by status and run, in pages', () => {
    const db = openDatabase({ path: ':memory:' });
    cleanups.push(() => db.close());
    for (let i = 0; i < 5; i += 1) {
      db.approvals.create(approval({ id: `a${i}`, runId: `r${i % 2}`, callId: `c${i}`, createdAt: 1_000 + i }));
    }
    db.approvals.create(approval({ id: 'b1', runId: 'rb', callId: 'cb', userId: 'bob' }));
    db.approvals.settle('a4', { state: 'denied', decidedBy: 'alice', at: 9 });
    const first = db.approvals.list({ userId: 'alice', limit: 2 });
    expect(first.items.map((a) => a.id)).toEqual(['a4', 'a3']);
    const second = db.approvals.list({ userId: 'alice', limit: 2, cursor: first.nextCursor ?? '' });
    expect(second.items.map((a) => a.id)).toEqual(['a2', 'a1']);
    expect(db.approvals.list({ userId: 'alice', status: 'pending' }).items).toHaveLength(4);
    expect(db.approvals.list({ userId: 'alice', runId: 'r1' }).items.map((a) => a.id)).toEqual(['a3', 'a1']);
    expect(db.approvals.list({ userId: 'bob' }).items.map((a) => a.id)).toEqual(['b1']);
    expect(db.approvals.list({}).items).toHaveLength(6);
  });
});

describe('crash recovery with approvals', () => {
  it('leaves a resumable run parked on approval running (closing its other open calls), interrupts the rest and cancels their approvals', async () => {
    const t = tempDb();
    cleanups.push(t.cleanup);
    const first = openDatabase({ path: t.path });
    const sink = first.createPersistentSink();
    const parked = new RunBuilder({ runId: 'run-parked', userId: 'alice' });
    parked.started('payout', { amount: 5 });
    const waiting = parked.toolExecuting('transfer_funds', { amount: 5 });
    const busy = parked.toolExecuting('search');
    const stuck = new RunBuilder({ runId: 'run-stuck', userId: 'alice' });
    stuck.started('research');
    const stuckCall = stuck.toolExecuting('transfer_funds', { amount: 7 });
    await Promise.all([sink.write(parked.events), sink.write(stuck.events)]);
    first.approvals.create(approval({ id: 'ap-parked', runId: 'run-parked', callId: waiting }));
    first.approvals.create(approval({ id: 'ap-stuck', runId: 'run-stuck', callId: stuckCall }));
    first.close();

    const second = openDatabase({ path: t.path, resumableAgents: ['payout'] });
    cleanups.push(() => second.close());
    const closedCalls = second.recovered.filter((e) => e.type === 'tool_completed').map((e) => e.callId);
    expect(closedCalls).toEqual([busy, stuckCall]);
    expect(second.recovered.filter((e) => e.type === 'agent_completed').map((e) => e.runId)).toEqual(['run-stuck']);
    expect(second.getRunRecord('run-parked')).toMatchObject({ status: 'running', lastSeq: 4 });
    expect(second.approvals.get('ap-parked')?.status).toBe('pending');
    expect(second.approvals.get('ap-stuck')?.status).toBe('cancelled');
    expect(second.approvals.parkedRuns()).toEqual([
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
});
