import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, type ToolResult } from '../defineAgent.ts';
import { defineTool } from '../defineTool.ts';
import { DispatchError } from '../errors.ts';
import type { AgentThinkingEvent, ApprovalInfo, RunEvent } from '../events.ts';
import { createDispatcherFactory } from '../factory.ts';
import { findOrderingViolations } from '../findOrderingViolations.ts';
import { createMemorySink } from '../memorySink.ts';
import { contextFor, sleep, waitFor } from '../testSupport.ts';
import { createMemoryApprovalStore } from './createMemoryApprovalStore.ts';

function setup(opts: { runDeadlineMs?: number; approvalTimeoutMs?: number } = {}) {
  const ran: unknown[] = [];
  const pay = defineTool({
    name: 'pay',
    description: 'pays',
    input: z.object({ amount: z.number() }),
    access: 'user',
    // Shorter than the waits below: the tool's own timeout must not run while it waits.
    timeoutMs: 40,
    approval: (input) => input.amount > 10,
    ...(opts.approvalTimeoutMs === undefined ? {} : { approvalTimeoutMs: opts.approvalTimeoutMs }),
    run(input) {
      ran.push(input);
      return { paid: input.amount };
    },
  });
  const payer = defineAgent({
    name: 'payer',
    description: 'pays each amount in parallel',
    input: z.object({ amounts: z.array(z.number()) }),
    async run({ amounts }, ctx) {
      const results = await Promise.all(amounts.map((amount) => ctx.callTool('pay', { amount })));
      return results.map((r) => r.status);
    },
    async resume(state) {
      const results: ToolResult[] = await Promise.all(state.pending.map((p) => p.result));
      return results.map((r) => r.status);
    },
  });
  const sink = createMemorySink();
  const store = createMemoryApprovalStore();
  const factory = createDispatcherFactory({
    tools: [pay],
    agents: [payer],
    sink,
    limits: opts.runDeadlineMs === undefined ? {} : { runDeadlineMs: opts.runDeadlineMs },
    approvals: { store },
  });
  const approvals = (runId: string): ApprovalInfo[] =>
    sink.events(runId).flatMap((e) => (e.type === 'agent_thinking' && e.approval !== undefined ? [e.approval] : []));
  const requested = (runId: string) => approvals(runId).filter((a) => a.state === 'requested');
  return { factory, sink, store, ran, approvals, requested };
}

const alice = { userId: 'alice', roles: ['user'] as const };

function start(s: ReturnType<typeof setup>, amounts: number[]) {
  return s.factory.startRun({ context: contextFor('alice'), agent: 'payer', input: { amounts } });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof DispatchError ? error.code : `no DispatchError: ${String(error)}`;
}

describe('approvals', () => {
  it('a call that needs approval waits (past its own timeout) between tool_executing and tool_completed, then runs once approved', async () => {
    const s = setup();
    const run = start(s, [50, 5]);
    await waitFor(() => s.requested(run.runId).length === 1);
    await sleep(80);
    expect(s.ran).toEqual([{ amount: 5 }]);
    const [pending] = s.requested(run.runId);
    const decided = await s.factory.approvals.decide({ approvalId: pending?.id ?? '', decision: 'approve', by: alice });
    expect(decided).toMatchObject({ state: 'approved', decidedBy: 'alice', tool: 'pay', input: { amount: 50 } });
    const done = await run.done;
    expect(done).toMatchObject({ status: 'completed', result: ['success', 'success'] });
    expect(s.ran).toEqual([{ amount: 5 }, { amount: 50 }]);
    const events = s.sink.events(run.runId);
    expect(findOrderingViolations(events)).toEqual([]);
    const callId = pending?.callId;
    const ofCall = events.filter((e) => 'callId' in e && e.callId === callId).map((e) => e.type);
    const approvalsOfCall = events.filter(
      (e): e is AgentThinkingEvent => e.type === 'agent_thinking' && e.approval?.callId === callId,
    );
    expect(ofCall).toEqual(['tool_executing', 'tool_completed']);
    expect(approvalsOfCall.map((e) => e.approval?.state)).toEqual(['requested', 'approved']);
    const seqOf = (e: RunEvent | undefined) => e?.seq ?? -1;
    const executing = events.find((e) => e.type === 'tool_executing' && e.callId === callId);
    const completed = events.find((e) => e.type === 'tool_completed' && e.callId === callId);
    for (const e of approvalsOfCall) {
      expect(e.seq).toBeGreaterThan(seqOf(executing));
      expect(e.seq).toBeLessThan(seqOf(completed));
    }
    expect(s.store.get(pending?.id ?? '')).toMatchObject({ state: 'approved', settlement: { decidedBy: 'alice' } });
  });

  it('a denied call never runs and completes denied with APPROVAL_DENIED and the reason', async () => {
    const s = setup();
    const run = start(s, [50]);
    await waitFor(() => s.requested(run.runId).length === 1);
    const id = s.requested(run.runId)[0]?.id ?? '';
    await s.factory.approvals.decide({ approvalId: id, decision: 'deny', by: alice, reason: 'too much' });
    await run.done;
    expect(s.ran).toEqual([]);
    const completed = s.sink.events(run.runId).find((e) => e.type === 'tool_completed');
    expect(completed).toMatchObject({ status: 'denied', error: { code: 'APPROVAL_DENIED' } });
    expect(completed?.type === 'tool_completed' && completed.error?.message).toContain('too much');
  });

  it('two pending approvals of one run are decided independently, by id, in reverse order', async () => {
    const s = setup();
    const run = start(s, [20, 30]);
    await waitFor(() => s.requested(run.runId).length === 2);
    const [first, second] = s.requested(run.runId);
    await s.factory.approvals.decide({ approvalId: second?.id ?? '', decision: 'approve', by: alice });
    await waitFor(() => s.ran.length === 1);
    expect(s.ran).toEqual([{ amount: 30 }]);
    await s.factory.approvals.decide({ approvalId: first?.id ?? '', decision: 'deny', by: alice });
    expect(await run.done).toMatchObject({ status: 'completed', result: ['denied', 'success'] });
  });

  it('a second decision is APPROVAL_DECIDED, another user is APPROVAL_FORBIDDEN, an unknown id APPROVAL_NOT_FOUND', async () => {
    const s = setup();
    const run = start(s, [50]);
    await waitFor(() => s.requested(run.runId).length === 1);
    const id = s.requested(run.runId)[0]?.id ?? '';
    const bob = { userId: 'bob', roles: ['user'] };
    expect(await codeOf(s.factory.approvals.decide({ approvalId: id, decision: 'approve', by: bob }))).toBe(
      'APPROVAL_FORBIDDEN',
    );
    const decisions = await Promise.allSettled([
      s.factory.approvals.decide({ approvalId: id, decision: 'approve', by: alice }),
      s.factory.approvals.decide({ approvalId: id, decision: 'deny', by: alice }),
    ]);
    expect(decisions.map((d) => d.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await codeOf(s.factory.approvals.decide({ approvalId: id, decision: 'deny', by: alice }))).toBe(
      'APPROVAL_NOT_FOUND',
    );
    await run.done;
    expect(s.ran).toHaveLength(1);
  });

  it('an approval nobody decides expires: the call completes denied with APPROVAL_EXPIRED and never runs', async () => {
    const s = setup({ approvalTimeoutMs: 30 });
    const run = start(s, [50]);
    const done = await run.done;
    expect(done.status).toBe('completed');
    expect(s.ran).toEqual([]);
    expect(s.approvals(run.runId).map((a) => a.state)).toEqual(['requested', 'expired']);
    const completed = s.sink.events(run.runId).find((e) => e.type === 'tool_completed');
    expect(completed).toMatchObject({ status: 'denied', error: { code: 'APPROVAL_EXPIRED' } });
  });

  it('cancelling the run resolves its pending approvals as cancelled; the store agrees', async () => {
    const s = setup();
    const run = start(s, [20, 30]);
    await waitFor(() => s.requested(run.runId).length === 2);
    run.cancel('changed my mind');
    expect(await run.done).toMatchObject({ status: 'cancelled' });
    expect(s.ran).toEqual([]);
    expect(s.approvals(run.runId).filter((a) => a.state === 'cancelled')).toHaveLength(2);
    expect(findOrderingViolations(s.sink.events(run.runId))).toEqual([]);
    await waitFor(() => s.store.list().every((a) => a.state === 'cancelled'));
    expect(s.factory.approvals.waiting()).toBe(0);
  });

  it('the run deadline does not end a run parked on approval; it resumes counting once decided', async () => {
    const s = setup({ runDeadlineMs: 40 });
    const run = start(s, [50]);
    await waitFor(() => s.requested(run.runId).length === 1);
    await sleep(100);
    const id = s.requested(run.runId)[0]?.id ?? '';
    await s.factory.approvals.decide({ approvalId: id, decision: 'approve', by: alice });
    expect(await run.done).toMatchObject({ status: 'completed', result: ['success'] });
  });

  it('a drain lets go of a run parked on approval without an event: it stays pending in the store for the next start', async () => {
    const s = setup();
    const run = start(s, [50]);
    await waitFor(() => s.requested(run.runId).length === 1);
    const before = s.sink.events(run.runId).length;
    await s.factory.drain({ graceMs: 10_000 });
    expect(s.sink.events(run.runId)).toHaveLength(before);
    expect(s.store.list().map((a) => a.state)).toEqual(['pending']);
    expect(s.factory.activeRuns()).toEqual([]);
    expect(s.factory.approvals.waiting()).toBe(0);
    expect(s.ran).toEqual([]);
  });

  it('a parked run resumes in another factory at the next seq, waits again, and runs the call once approved', async () => {
    const first = setup();
    const run = start(first, [50]);
    await waitFor(() => first.requested(run.runId).length === 1);
    const stored = first.store.list()[0];
    const events = first.sink.events(run.runId);
    const last = events.at(-1);
    if (stored === undefined || last === undefined) throw new Error('nothing stored');
    // A second process: a fresh factory, the first one's store rows and event log as the database holds them.
    const second = setup();
    second.store.create(stored);
    const resumed = second.factory.approvals.resume({
      runId: run.runId,
      userId: 'alice',
      threadId: last.threadId,
      agent: 'payer',
      roles: ['user'],
      input: { amounts: [50] },
      startedAtMs: Date.parse(events[0]?.at ?? ''),
      lastSeq: last.seq,
      toolCalls: 1,
      pending: [
        {
          approvalId: stored.id,
          callId: stored.callId,
          tool: 'pay',
          callInput: stored.callInput,
          expiresAtMs: stored.expiresAt,
        },
      ],
    });
    await waitFor(() => second.requested(run.runId).length === 1);
    await second.factory.approvals.decide({ approvalId: stored.id, decision: 'approve', by: alice });
    expect(await resumed.done).toMatchObject({ status: 'completed', result: ['success'], toolCalls: 1 });
    expect(second.ran).toEqual([{ amount: 50 }]);
    const all = [...events, ...second.sink.events(run.runId)];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(findOrderingViolations(all)).toEqual([]);
  });
});
