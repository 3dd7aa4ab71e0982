import type { RunEvent } from '@toolrun/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Collector, Transport } from './helpers.ts';
import {
  codeOf,
  collect,
  createClient,
  eventually,
  login,
  orderingProblems,
  startTestServer,
  within,
} from './helpers.ts';
import {
  pairPayoutAgent,
  quickPayoutAgent,
  quickTransfersRan,
  quickTransferTool,
} from './reliability/support/approvalAgents.ts';

type Approval = NonNullable<Extract<RunEvent, { type: 'agent_thinking' }>['approval']>;

let server: Awaited<ReturnType<typeof startTestServer>>;
const closers: (() => void)[] = [];

beforeAll(async () => {
  server = await startTestServer({
    extraAgents: [pairPayoutAgent, quickPayoutAgent],
    extraTools: [quickTransferTool],
  });
});
afterAll(async () => {
  for (const close of closers) close();
  await server.stop();
});

async function clientOf(userId: string, transport: Transport, role: 'user' | 'admin' = 'user'): Promise<Client> {
  const { client, close } = createClient(server.url, { transport, token: await login(server.url, userId, role) });
  closers.push(close);
  return client;
}

function approvalsIn(events: readonly RunEvent[], runId?: string): Approval[] {
  return events.flatMap((e) =>
    e.type === 'agent_thinking' && e.approval !== undefined && (runId === undefined || e.runId === runId)
      ? [e.approval]
      : [],
  );
}

/** The run's requested approvals, once `n` of them have arrived on `stream`. */
async function requested(stream: Collector, runId: string, n = 1): Promise<Approval[]> {
  return eventually(() => {
    const found = approvalsIn(stream.events(), runId).filter((a) => a.state === 'requested');
    return found.length >= n ? found : undefined;
  });
}

async function transfersOf(userId: string): Promise<unknown[]> {
  const value = await server.services.db.scratchpad.get(userId, 'payout.transfers');
  return Array.isArray(value) ? value : [];
}

describe('approvals', () => {
  it.each([
    ['sse', 'approve', 'ws'],
    ['ws', 'deny', 'sse'],
  ] as const)(
    'a run followed over %s is decided (%s) from a second client over %s, live from its runs.feed',
    async (first, decision, second) => {
      const userId = `feed-${first}-${decision}`;
      const owner = await clientOf(userId, first);
      const other = await clientOf(userId, second);
      const feed = collect((cb) => other.runs.feed.subscribe({}, cb));
      await eventually(() => (feed.starts() > 0 ? true : undefined));
      const { runId } = await owner.runs.start.mutate({ agent: 'payout', input: { amount: 7 } });
      const run = collect((cb) => owner.runs.events.subscribe({ runId }, cb));
      const [approval] = await requested(feed, runId);
      if (approval === undefined) throw new Error('no approval');
      expect(approval).toMatchObject({ tool: 'transfer_funds', input: { amount: 7, to: 'bob' } });
      // The owner's pending list has it too (the console's badge starts from it).
      const pending = await owner.approvals.list.query({ status: 'pending' });
      expect(pending.items.map((a) => a.id)).toEqual([approval.id]);
      const decided = await other.approvals.decide.mutate({ approvalId: approval.id, decision, reason: 'checked' });
      expect(decided).toMatchObject({ status: decision === 'approve' ? 'approved' : 'denied', decidedBy: userId });
      const messages = await within(run.done, 20_000, 'the run');
      const events = messages.flatMap((m) => m.events);
      expect(orderingProblems(events)).toEqual([]);
      expect(approvalsIn(events).map((a) => a.state)).toEqual([
        'requested',
        decision === 'approve' ? 'approved' : 'denied',
      ]);
      const last = events.at(-1);
      expect(last).toMatchObject({ type: 'agent_completed', status: 'completed' });
      expect(last?.type === 'agent_completed' && last.result).toMatchObject({ transferred: decision === 'approve' });
      expect(await transfersOf(userId)).toHaveLength(decision === 'approve' ? 1 : 0);
      // The second client's feed saw the decision live too.
      await eventually(() => (approvalsIn(feed.events(), runId).length === 2 ? true : undefined));
      feed.unsubscribe();
    },
  );

  it('two pending approvals of one run are decided independently, by id, in reverse order', async () => {
    const alice = await clientOf('pair-alice', 'ws');
    const { runId } = await alice.runs.start.mutate({ agent: 'pair_payout', input: { first: 1, second: 2 } });
    const run = collect((cb) => alice.runs.events.subscribe({ runId }, cb));
    const [first, second] = await requested(run, runId, 2);
    if (first === undefined || second === undefined) throw new Error('two approvals expected');
    await alice.approvals.decide.mutate({ approvalId: second.id, decision: 'approve' });
    await eventually(async () => ((await transfersOf('pair-alice')).length === 1 ? true : undefined));
    expect(await transfersOf('pair-alice')).toEqual([expect.objectContaining({ to: 'second' })]);
    await alice.approvals.decide.mutate({ approvalId: first.id, decision: 'deny' });
    const events = (await within(run.done, 20_000, 'the run')).flatMap((m) => m.events);
    expect(events.at(-1)).toMatchObject({ status: 'completed', result: ['denied', 'success'] });
    expect(orderingProblems(events)).toEqual([]);
    const byCall = events.filter((e) => e.type === 'tool_completed');
    expect(byCall.find((e) => e.callId === first.callId)).toMatchObject({
      status: 'denied',
      error: { code: 'APPROVAL_DENIED' },
    });
  });

  it('a decision racing the deadline: exactly one of them wins, every time, and the event, the row and the tool agree', async () => {
    const alice = await clientOf('race-alice', 'sse');
    for (let i = 0; i < 12; i += 1) {
      const { runId } = await alice.runs.start.mutate({ agent: 'quick_payout', input: {} });
      const run = collect((cb) => alice.runs.events.subscribe({ runId }, cb));
      const [approval] = await requested(run, runId);
      if (approval === undefined) throw new Error('no approval');
      // Spread the decisions around the deadline: some before it, some after.
      await new Promise((resolve) => setTimeout(resolve, (i * 7) % 60));
      const outcome = await codeOf(alice.approvals.decide.mutate({ approvalId: approval.id, decision: 'approve' }));
      const events = (await within(run.done, 20_000, 'the run')).flatMap((m) => m.events);
      const states = approvalsIn(events).map((a) => a.state);
      const row = await server.services.db.approvals.get(approval.id);
      const ran = quickTransfersRan.includes(approval.callId);
      if (outcome === 'OK') {
        expect({ states, row: row?.status, ran }).toEqual({
          states: ['requested', 'approved'],
          row: 'approved',
          ran: true,
        });
      } else {
        expect(outcome).toBe('CONFLICT');
        expect({ states, row: row?.status, ran }).toEqual({
          states: ['requested', 'expired'],
          row: 'expired',
          ran: false,
        });
      }
      expect(orderingProblems(events)).toEqual([]);
    }
  });

  it('a second decision is CONFLICT, also when both race: the first wins', async () => {
    const alice = await clientOf('double-alice', 'sse');
    const { runId } = await alice.runs.start.mutate({ agent: 'payout', input: {} });
    const run = collect((cb) => alice.runs.events.subscribe({ runId }, cb));
    const [approval] = await requested(run, runId);
    if (approval === undefined) throw new Error('no approval');
    const codes = await Promise.all([
      codeOf(alice.approvals.decide.mutate({ approvalId: approval.id, decision: 'approve' })),
      codeOf(alice.approvals.decide.mutate({ approvalId: approval.id, decision: 'deny' })),
    ]);
    expect([...codes].sort()).toEqual(['CONFLICT', 'OK']);
    expect(await codeOf(alice.approvals.decide.mutate({ approvalId: approval.id, decision: 'approve' }))).toBe(
      'CONFLICT',
    );
    await within(run.done, 20_000, 'the run');
    // The approve came first in the list: it ran the transfer only if it was the winner.
    expect(await transfersOf('double-alice')).toHaveLength(codes[0] === 'OK' ? 1 : 0);
  });

  it('bob can neither list nor decide alice’s approvals; an admin lists them with scope all; bad input is BAD_REQUEST', async () => {
    const alice = await clientOf('iso-alice', 'sse');
    const bob = await clientOf('iso-bob', 'ws');
    const admin = await clientOf('iso-admin', 'sse', 'admin');
    const anonymous = createClient(server.url, { transport: 'sse' }).client;
    const { runId } = await alice.runs.start.mutate({ agent: 'payout', input: {} });
    const run = collect((cb) => alice.runs.events.subscribe({ runId }, cb));
    const [approval] = await requested(run, runId);
    if (approval === undefined) throw new Error('no approval');
    expect((await bob.approvals.list.query({})).items).toEqual([]);
    expect((await bob.approvals.list.query({ runId })).items).toEqual([]);
    expect(await codeOf(bob.approvals.list.query({ scope: 'all' }))).toBe('FORBIDDEN');
    expect(await codeOf(bob.approvals.decide.mutate({ approvalId: approval.id, decision: 'approve' }))).toBe(
      'NOT_FOUND',
    );
    expect(await codeOf(anonymous.approvals.list.query({}))).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.approvals.decide.mutate({ approvalId: approval.id, decision: 'approve' }))).toBe(
      'UNAUTHORIZED',
    );
    const all = await admin.approvals.list.query({ scope: 'all', runId });
    expect(all.items.map((a) => a.id)).toEqual([approval.id]);
    // payout's transfer is the owner's to approve: an admin sees it but may not decide it.
    expect(await codeOf(admin.approvals.decide.mutate({ approvalId: approval.id, decision: 'approve' }))).toBe(
      'FORBIDDEN',
    );
    const bad = [
      alice.approvals.decide.mutate({ approvalId: '', decision: 'approve' }),
      alice.approvals.decide.mutate({ approvalId: approval.id, decision: 'maybe' as 'approve' }),
      alice.approvals.decide.mutate({ approvalId: approval.id, decision: 'deny', reason: 'x'.repeat(501) }),
      alice.approvals.decide.mutate({ approvalId: 'a'.repeat(10_000), decision: 'deny' }),
      alice.approvals.list.query({ status: 'nope' as 'pending' }),
      alice.approvals.list.query({ cursor: 'not-a-cursor' }),
    ];
    expect(await Promise.all(bad.map(codeOf))).toEqual(Array(bad.length).fill('BAD_REQUEST'));
    expect(await transfersOf('iso-alice')).toEqual([]);
    await alice.approvals.decide.mutate({ approvalId: approval.id, decision: 'deny' });
    await within(run.done, 20_000, 'the run');
  });

  it('cancelling a run resolves its pending approval as cancelled: the tool never runs, a later decision is CONFLICT', async () => {
    const alice = await clientOf('cancel-alice', 'ws');
    const { runId } = await alice.runs.start.mutate({ agent: 'pair_payout', input: { first: 3, second: 4 } });
    const run = collect((cb) => alice.runs.events.subscribe({ runId }, cb));
    const [approval] = await requested(run, runId, 2);
    if (approval === undefined) throw new Error('no approval');
    await alice.runs.cancel.mutate({ runId });
    const events = (await within(run.done, 20_000, 'the run')).flatMap((m) => m.events);
    expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'cancelled' });
    expect(approvalsIn(events).map((a) => a.state)).toEqual(['requested', 'requested', 'cancelled', 'cancelled']);
    expect(orderingProblems(events)).toEqual([]);
    await eventually(async () =>
      (await server.services.db.approvals.list({ runId })).items.every((a) => a.status === 'cancelled')
        ? true
        : undefined,
    );
    expect(await codeOf(alice.approvals.decide.mutate({ approvalId: approval.id, decision: 'approve' }))).toBe(
      'CONFLICT',
    );
    expect(await transfersOf('cancel-alice')).toEqual([]);
  });

  it('thousands of decide calls from one account each get a typed answer, and the server keeps serving', {
    timeout: 120_000,
  }, async () => {
    const alice = await clientOf('flood-alice', 'ws');
    const { runId } = await alice.runs.start.mutate({ agent: 'payout', input: {} });
    const run = collect((cb) => alice.runs.events.subscribe({ runId }, cb));
    const [approval] = await requested(run, runId);
    if (approval === undefined) throw new Error('no approval');
    const codes = new Map<string, number>();
    // Bounded: 2,000 calls, 50 in flight at a time, on loopback.
    for (let batch = 0; batch < 40; batch += 1) {
      const calls = Array.from({ length: 50 }, (_, i) =>
        codeOf(
          alice.approvals.decide.mutate({
            approvalId: i % 2 === 0 ? approval.id : `approval_unknown_${batch}_${i}`,
            decision: i % 3 === 0 ? 'approve' : 'deny',
          }),
        ),
      );
      for (const code of await Promise.all(calls)) codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    const total = [...codes.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(2_000);
    // Exactly one decision won; every other call got CONFLICT or NOT_FOUND (or a rate limit).
    expect(codes.get('OK')).toBe(1);
    expect([...codes.keys()].every((c) => ['OK', 'CONFLICT', 'NOT_FOUND', 'TOO_MANY_REQUESTS'].includes(c))).toBe(true);
    await within(run.done, 20_000, 'the run');
    expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
    expect((await alice.approvals.list.query({ runId })).items).toHaveLength(1);
  });
});
