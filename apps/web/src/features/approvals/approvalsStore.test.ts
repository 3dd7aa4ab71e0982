import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../lib/types.ts';
import { type ApprovalInfo, type ApprovalRecord, ApprovalsStore } from './approvalsStore.ts';

function thought(seq: number, approval: ApprovalInfo): RunEvent {
  return {
    id: `r1:${seq}`,
    seq,
    runId: 'r1',
    userId: 'alice',
    threadId: 't',
    at: new Date(0).toISOString(),
    type: 'agent_thinking',
    text: 'x',
    step: seq,
    approval,
  };
}

const base: ApprovalInfo = {
  id: 'a1',
  state: 'requested',
  callId: 'c1',
  tool: 'transfer_funds',
  input: { amount: 1 },
  expiresAt: new Date(60_000).toISOString(),
};

function record(id: string): ApprovalRecord {
  return {
    id,
    runId: 'r1',
    userId: 'alice',
    callId: `call-${id}`,
    tool: 'transfer_funds',
    input: {},
    inputHash: 'h',
    status: 'pending',
    approvers: 'owner',
    createdAt: new Date(0).toISOString(),
    expiresAt: new Date(60_000).toISOString(),
    decidedAt: null,
    decidedBy: null,
    reason: null,
  };
}

function setup(listing: Promise<readonly ApprovalRecord[]>, decide: () => Promise<unknown> = async () => undefined) {
  let feed: { onData(message: { data: readonly RunEvent[] }): void } | undefined;
  const store = new ApprovalsStore({
    listPending: () => listing,
    subscribeFeed: (observer) => {
      feed = observer;
      return { unsubscribe: () => undefined };
    },
    decide,
  });
  store.start();
  const push = (...events: RunEvent[]) => feed?.onData({ data: events });
  return { store, push };
}

describe('ApprovalsStore', () => {
  it('shows approvals requested on the feed and drops them once decided anywhere', () => {
    const { store, push } = setup(new Promise(() => undefined));
    push(thought(4, base), thought(5, { ...base, id: 'a2', callId: 'c2' }));
    expect(store.getSnapshot().map((a) => a.id)).toEqual(['a1', 'a2']);
    push(thought(6, { ...base, state: 'approved', decidedBy: 'alice' }));
    expect(store.getSnapshot().map((a) => a.id)).toEqual(['a2']);
    // A restarted server asking again does not bring a decided approval back.
    push(thought(7, base));
    expect(store.getSnapshot().map((a) => a.id)).toEqual(['a2']);
  });

  it('a pending listing that arrives after the feed’s decision does not resurrect the approval', async () => {
    let resolve: (items: readonly ApprovalRecord[]) => void = () => undefined;
    const { store, push } = setup(new Promise((r) => (resolve = r)));
    push(thought(6, { ...base, state: 'denied', decidedBy: 'alice' }));
    resolve([record('a1'), record('a9')]);
    await Promise.resolve();
    await Promise.resolve();
    expect(store.getSnapshot().map((a) => a.id)).toEqual(['a9']);
  });

  it('keeps a refused decision’s message on the approval', async () => {
    const { store, push } = setup(new Promise(() => undefined), () =>
      Promise.reject(new Error('CONFLICT: already approved')),
    );
    push(thought(4, base));
    await store.decide('a1', 'approve');
    expect(store.get('a1')).toMatchObject({ deciding: undefined, error: expect.stringContaining('already approved') });
  });
});
