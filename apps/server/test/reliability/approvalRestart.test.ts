import { join } from 'node:path';
import type { RunEvent } from '@toolrun/api';
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers.ts';
import {
  collect,
  createClient,
  eventually,
  login,
  orderingProblems,
  startTestServer,
  tempDir,
  within,
} from '../helpers.ts';
import type { ChildServer } from './support/childServer.ts';
import { freePort, killAllChildServers, spawnServer } from './support/childServer.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  await killAllChildServers();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

type Approval = NonNullable<Extract<RunEvent, { type: 'agent_thinking' }>['approval']>;

function approvalsIn(events: readonly RunEvent[]): Approval[] {
  return events.flatMap((e) => (e.type === 'agent_thinking' && e.approval !== undefined ? [e.approval] : []));
}

async function aliceOn(child: ChildServer): Promise<Client> {
  const { client, close } = createClient(child.url, { transport: 'sse', token: await login(child.url, 'alice') });
  cleanups.push(close);
  return client;
}

/** Starts `payout` and returns once its approval is requested (so its row and events are committed). */
async function parkPayout(alice: Client): Promise<{ runId: string; approval: Approval }> {
  const { runId } = await alice.runs.start.mutate({ agent: 'payout', input: { amount: 40 } });
  const stream = collect((cb) => alice.runs.events.subscribe({ runId }, cb));
  const approval = await eventually(() => approvalsIn(stream.events()).find((a) => a.state === 'requested'));
  stream.unsubscribe();
  return { runId, approval };
}

/** Every event of the run, from its first, once it has ended. */
async function wholeRun(alice: Client, runId: string): Promise<RunEvent[]> {
  const messages = await within(
    collect((cb) => alice.runs.events.subscribe({ runId }, cb)).done,
    30_000,
    'the resumed run',
  );
  return messages.flatMap((m) => m.events);
}

/** The user's recorded transfers, read from the database file once the server has stopped. */
async function transfersIn(dbPath: string, userId: string): Promise<unknown[]> {
  const reopened = await startTestServer({ database: dbPath });
  try {
    const value = await reopened.services.db.scratchpad.get(userId, 'payout.transfers');
    return Array.isArray(value) ? value : [];
  } finally {
    await reopened.stop();
  }
}

describe('approvals across a server restart', () => {
  it('SIGKILL while an approval is pending: after the restart the run still waits (not interrupted), and once approved the transfer happens exactly once and the run completes, seq without gaps', {
    timeout: 120_000,
  }, async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const port = await freePort();
    let child = await spawnServer({ port, dataDir: tmp.dir });
    const { runId, approval } = await parkPayout(await aliceOn(child));
    expect((await child.stop('SIGKILL')).signal).toBe('SIGKILL');

    child = await spawnServer({ port, dataDir: tmp.dir });
    const alice = await aliceOn(child);
    const pending = await alice.approvals.list.query({ status: 'pending' });
    expect(pending.items.map((a) => a.id)).toEqual([approval.id]);
    expect((await alice.runs.get.query({ runId })).run.status).toBe('running');
    await alice.approvals.decide.mutate({ approvalId: approval.id, decision: 'approve' });
    const events = await wholeRun(alice, runId);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.at(-1)).toMatchObject({
      type: 'agent_completed',
      status: 'completed',
      result: { transferred: true, amount: 40 },
    });
    // Asked again by the restarted server (same id and call), then approved; one tool call in all.
    expect(approvalsIn(events).map((a) => [a.id, a.state])).toEqual([
      [approval.id, 'requested'],
      [approval.id, 'requested'],
      [approval.id, 'approved'],
    ]);
    expect(events.filter((e) => e.type === 'tool_executing')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'agent_started')).toHaveLength(1);
    expect(await child.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await transfersIn(join(tmp.dir, 'toolrun.db'), 'alice')).toEqual([
      expect.objectContaining({ amount: 40, callId: approval.callId }),
    ]);
  });

  it('a graceful stop (the SIGTERM path: drain, then close) leaves a run parked on approval waiting; the next start resumes it and a denial ends it without the transfer', {
    timeout: 60_000,
  }, async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const database = join(tmp.dir, 'toolrun.db');
    const first = await startTestServer({ database });
    const client = (url: string) => login(url, 'alice').then((token) => createClient(url, { transport: 'ws', token }));
    const before = await client(first.url);
    const { runId, approval } = await parkPayout(before.client);
    before.close();
    await first.stop();
    const second = await startTestServer({ database });
    cleanups.push(() => second.stop());
    const after = await client(second.url);
    cleanups.push(after.close);
    expect((await after.client.approvals.list.query({ status: 'pending' })).items.map((a) => a.id)).toEqual([
      approval.id,
    ]);
    await after.client.approvals.decide.mutate({ approvalId: approval.id, decision: 'deny', reason: 'not today' });
    const events = await wholeRun(after.client, runId);
    expect(orderingProblems(events)).toEqual([]);
    expect(events.filter((e) => e.type === 'agent_completed')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      status: 'completed',
      result: { transferred: false, reason: 'APPROVAL_DENIED' },
    });
    expect(await second.services.db.scratchpad.get('alice', 'payout.transfers')).toBeUndefined();
  });

  it('the approval deadline fires across a restart (in process, the SIGTERM path): the call is refused APPROVAL_EXPIRED and the transfer never happens', {
    timeout: 60_000,
  }, async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const database = join(tmp.dir, 'toolrun.db');
    const first = await startTestServer({ database, approvalTimeoutMs: 1_500 });
    const before = createClient(first.url, { transport: 'sse', token: await login(first.url, 'alice') });
    const { runId, approval } = await parkPayout(before.client);
    before.close();
    await first.stop();
    const second = await startTestServer({ database, approvalTimeoutMs: 1_500 });
    cleanups.push(() => second.stop());
    const after = createClient(second.url, { transport: 'sse', token: await login(second.url, 'alice') });
    cleanups.push(after.close);
    const events = await wholeRun(after.client, runId);
    expect(orderingProblems(events)).toEqual([]);
    expect(approvalsIn(events).at(-1)).toMatchObject({ id: approval.id, state: 'expired' });
    expect(events.find((e) => e.type === 'tool_completed')).toMatchObject({
      status: 'denied',
      error: { code: 'APPROVAL_EXPIRED' },
    });
    expect(events.at(-1)).toMatchObject({ status: 'completed', result: { transferred: false } });
    expect((await after.client.approvals.list.query({ runId })).items[0]?.status).toBe('expired');
    expect(await second.services.db.scratchpad.get('alice', 'payout.transfers')).toBeUndefined();
  });
});
