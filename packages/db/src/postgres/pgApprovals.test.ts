import type { NewApproval } from '@toolrun/dispatcher';
import { describe, expect, it } from 'vitest';
import { BACKENDS, type Backend } from '../../test/backends.ts';
import { RunBuilder } from '../../test/fixtures.ts';

const postgres = BACKENDS.find((b) => b.name === 'postgres') as Backend;

function pendingApproval(id: string, runId: string, userId: string, callId: string): NewApproval {
  return {
    id,
    runId,
    userId,
    callId,
    tool: 'transfer_funds',
    input: {},
    callInput: {},
    roles: ['user'],
    approvers: 'owner',
    createdAt: 1,
    expiresAt: 2,
  };
}

/** Several lease holders (each open database holds its own lease, as a process does) on one database. */
describe('approvals with several processes on postgres', () => {
  it("never touches a live process's pending approvals; adopts a dead one's parked run once, for one process only", async () => {
    const location = await postgres.fresh();
    const live = await postgres.open(location);
    const liveRun = new RunBuilder({ runId: 'run-live', userId: 'alice' });
    liveRun.started('payout');
    const liveCall = liveRun.toolExecuting('transfer_funds');
    await live.createPersistentSink().write(liveRun.events);
    await live.approvals.create(pendingApproval('ap-live', 'run-live', 'alice', liveCall));
    const dying = await postgres.open(location);
    const deadRun = new RunBuilder({ runId: 'run-dead', userId: 'bob' });
    deadRun.started('payout');
    const deadCall = deadRun.toolExecuting('transfer_funds');
    await dying.createPersistentSink().write(deadRun.events);
    await dying.approvals.create(pendingApproval('ap-dead', 'run-dead', 'bob', deadCall));
    // Its lease goes with it, as when its process dies.
    await dying.close();

    const adopter = await postgres.open(location, { resumableAgents: ['payout'] });
    expect(adopter.recovered).toEqual([]);
    expect((await adopter.approvals.parkedRuns()).map((p) => p.runId)).toEqual(['run-dead']);
    // A third process starting while both live: nothing is an orphan, nothing is parked for it.
    const third = await postgres.open(location, { resumableAgents: ['payout'] });
    expect(third.recovered).toEqual([]);
    expect(await third.approvals.parkedRuns()).toEqual([]);
    expect((await third.approvals.list({ status: 'pending' })).items.map((a) => a.id).sort()).toEqual([
      'ap-dead',
      'ap-live',
    ]);
    expect((await live.getRunRecord('run-live'))?.status).toBe('running');
    expect((await live.getRunRecord('run-dead'))?.status).toBe('running');
  });
});
