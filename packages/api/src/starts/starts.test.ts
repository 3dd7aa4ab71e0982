import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { caught } from '../caught.testSupport.ts';
import { createContext } from '../context.ts';
import { appRouter } from '../root.ts';
import { createToolrunServices, type ToolrunServices, type ToolrunServicesOptions } from '../services.ts';
import { createCallerFactory } from '../trpc.ts';
import { eventually, gateAgent } from './gateAgent.testSupport.ts';

const SECRET = 'a-secret-for-the-starts-tests-0123456789';
const createCaller = createCallerFactory(appRouter);
const open: ToolrunServices[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) {
    await s.drain({ graceMs: 0 });
    await s.close();
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(opts: Partial<ToolrunServicesOptions> = {}) {
  const gates = gateAgent();
  const services = await createToolrunServices({
    database: ':memory:',
    auth: { mode: 'dev', secret: SECRET },
    extraAgents: [gates.agent],
    ...opts,
  });
  open.push(services);
  const as = async (userId: string) => {
    const { token } = await services.auth.issue({ userId, roles: ['user'] });
    return createCaller(await createContext({ services, authorization: `Bearer ${token}` }));
  };
  return { services, gates, as };
}

describe('idempotent starts', () => {
  it('gives concurrent starts with one key one run, and the same run to a later repeat', async () => {
    const { services, as } = await setup();
    const alice = await as('alice');
    const start = { agent: 'gate', input: { key: 'one' }, idempotencyKey: 'order-42' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => alice.runs.start(start)));
    expect(new Set(answers.map((a) => a.runId)).size).toBe(1);
    expect(new Set(answers.map((a) => a.threadId)).size).toBe(1);
    await services.sink.flush();
    const again = await alice.runs.start({ ...start, input: { key: 'one' } });
    expect(again).toEqual(answers[0]);
    const listed = await alice.runs.list({ limit: 100 });
    expect(listed.items.map((r) => r.id)).toEqual([again.runId]);
  });

  it('refuses the same key with another input or thread as CONFLICT, with a readable message; keys are per user', async () => {
    const { as } = await setup();
    const alice = await as('alice');
    const first = await alice.runs.start({ agent: 'gate', input: { key: 'a' }, idempotencyKey: 'k' });
    const other = await caught(alice.runs.start({ agent: 'gate', input: { key: 'b' }, idempotencyKey: 'k' }));
    expect(other.code).toBe('CONFLICT');
    expect(other.message).toMatch(/idempotency key "k" was already used .* another agent, input or thread/);
    const thread = await caught(
      alice.runs.start({ agent: 'gate', input: { key: 'a' }, threadId: 'thread-9', idempotencyKey: 'k' }),
    );
    expect(thread.code).toBe('CONFLICT');
    // The same key is Bob's own.
    const bob = await (await as('bob')).runs.start({ agent: 'gate', input: { key: 'b' }, idempotencyKey: 'k' });
    expect(bob.runId).not.toBe(first.runId);
  });

  it('gives the key back when the start is refused, so that a corrected retry starts the run', async () => {
    const { as } = await setup();
    const alice = await as('alice');
    const bad = await caught(alice.runs.start({ agent: 'no-such-agent', input: {}, idempotencyKey: 'k2' }));
    expect(bad.code).toBe('NOT_FOUND');
    const good = await alice.runs.start({ agent: 'gate', input: { key: 'x' }, idempotencyKey: 'k2' });
    expect(good.runId).toBeTruthy();
  });

  it('refuses a key over 255 characters or with control characters as BAD_REQUEST', async () => {
    const { as } = await setup();
    const alice = await as('alice');
    for (const idempotencyKey of ['x'.repeat(256), 'a\nb', '']) {
      const error = await caught(alice.runs.start({ agent: 'gate', input: { key: 'x' }, idempotencyKey }));
      expect(error.code).toBe('BAD_REQUEST');
    }
    const ok = await alice.runs.start({ agent: 'gate', input: { key: 'x' }, idempotencyKey: 'é'.repeat(255) });
    expect(ok.runId).toBeTruthy();
  });
});

describe('the per-user run queue', () => {
  it('with a limit of 1, runs three starts one after another, in order, reporting positions 1 and 2', async () => {
    const { services, gates, as } = await setup({ limits: { maxConcurrentRunsPerUser: 1 } });
    const alice = await as('alice');
    const a = await alice.runs.start({ agent: 'gate', input: { key: 'a' } });
    const b = await alice.runs.start({ agent: 'gate', input: { key: 'b' } });
    const c = await alice.runs.start({ agent: 'gate', input: { key: 'c' } });
    expect(a.queued).toBeUndefined();
    expect(b.queued).toEqual({ position: 1 });
    expect(c.queued).toEqual({ position: 2 });
    expect((await alice.runs.get({ runId: c.runId })).run).toMatchObject({ status: 'queued', queued: { position: 2 } });
    const listed = await alice.runs.list({ limit: 10 });
    expect(listed.items.map((r) => [r.id, r.status])).toEqual([
      [c.runId, 'queued'],
      [b.runId, 'queued'],
      [a.runId, 'running'],
    ]);
    await eventually(() => gates.isWaiting('a'));
    gates.release('a');
    await eventually(() => gates.isWaiting('b'));
    expect((await alice.runs.get({ runId: c.runId })).run).toMatchObject({ status: 'queued', queued: { position: 1 } });
    gates.release('b');
    await eventually(() => gates.isWaiting('c'));
    gates.release('c');
    await eventually(async () => (await services.db.getRunRecord(c.runId))?.status === 'completed');
    expect(gates.started).toEqual(['a', 'b', 'c']);
    expect(gates.peak.get('alice')).toBe(1);
    const started = (await alice.runs.get({ runId: c.runId })).events[0];
    expect(started).toMatchObject({ type: 'agent_started', agent: 'gate' });
    expect(started?.type === 'agent_started' ? started.queuedMs : undefined).toBeGreaterThan(0);
  });

  it('ends a cancelled queued run with agent_started and agent_completed (cancelled), and moves the rest up', async () => {
    const { gates, as } = await setup({ limits: { maxConcurrentRunsPerUser: 1 } });
    const alice = await as('alice');
    await alice.runs.start({ agent: 'gate', input: { key: 'a' } });
    const b = await alice.runs.start({ agent: 'gate', input: { key: 'b' } });
    const c = await alice.runs.start({ agent: 'gate', input: { key: 'c' } });
    // Another user can neither see nor cancel it.
    const bob = await as('bob');
    expect((await caught(bob.runs.cancel({ runId: b.runId }))).code).toBe('NOT_FOUND');
    expect((await caught(bob.runs.get({ runId: b.runId }))).code).toBe('NOT_FOUND');
    expect(await alice.runs.cancel({ runId: b.runId })).toEqual({ runId: b.runId, cancelled: true });
    const detail = await alice.runs.get({ runId: b.runId });
    expect(detail.events.map((e) => e.type)).toEqual(['agent_started', 'agent_completed']);
    expect(detail.events[1]).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect((await alice.runs.get({ runId: c.runId })).run).toMatchObject({ queued: { position: 1 } });
    await eventually(() => gates.isWaiting('a'));
    gates.release('a');
    await eventually(() => gates.isWaiting('c'));
    expect(gates.started).toEqual(['a', 'c']);
  });

  it("keeps onBusy: 'reject' refusing with TOO_MANY_REQUESTS, and bounds the queue per user", async () => {
    const { as } = await setup({ limits: { maxConcurrentRunsPerUser: 1 }, starts: { maxQueuedRunsPerUser: 2 } });
    const alice = await as('alice');
    await alice.runs.start({ agent: 'gate', input: { key: 'a' } });
    const rejected = await caught(alice.runs.start({ agent: 'gate', input: { key: 'x' }, onBusy: 'reject' }));
    expect(rejected.code).toBe('TOO_MANY_REQUESTS');
    await alice.runs.start({ agent: 'gate', input: { key: 'b' } });
    await alice.runs.start({ agent: 'gate', input: { key: 'c' } });
    const full = await caught(alice.runs.start({ agent: 'gate', input: { key: 'd' } }));
    expect(full.code).toBe('TOO_MANY_REQUESTS');
    expect(full.message).toContain('2 runs queued (limit 2)');
    // Invalid input is refused at once, not queued.
    const invalid = await caught(alice.runs.start({ agent: 'gate', input: { key: 1 } }));
    expect(invalid.code).toBe('BAD_REQUEST');
    // Bob has slots of his own.
    const bob = await (await as('bob')).runs.start({ agent: 'gate', input: { key: 'bob' } });
    expect(bob.queued).toBeUndefined();
  });

  it('ends a run that waits past its queue deadline as cancelled, saying why', async () => {
    const { services, as } = await setup({
      limits: { maxConcurrentRunsPerUser: 1 },
      starts: { maxQueueWaitMs: 50, sweepIntervalMs: 20 },
    });
    const alice = await as('alice');
    await alice.runs.start({ agent: 'gate', input: { key: 'a' } });
    const b = await alice.runs.start({ agent: 'gate', input: { key: 'b' } });
    await eventually(async () => (await services.db.getRunRecord(b.runId))?.status === 'cancelled');
    const detail = await alice.runs.get({ runId: b.runId });
    expect(detail.events[1]).toMatchObject({
      type: 'agent_completed',
      status: 'cancelled',
      error: { code: 'QUEUE_TIMEOUT', message: expect.stringContaining('queue wait limit') },
    });
  });

  it('keeps queued runs across a restart and starts them, in order, after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toolrun-queue-'));
    dirs.push(dir);
    const database = join(dir, 'toolrun.db');
    const first = await setup({ database, limits: { maxConcurrentRunsPerUser: 1 } });
    const alice = await first.as('alice');
    const a = await alice.runs.start({ agent: 'gate', input: { key: 'a' }, idempotencyKey: 'ka' });
    const b = await alice.runs.start({ agent: 'gate', input: { key: 'b' }, idempotencyKey: 'kb' });
    const c = await alice.runs.start({ agent: 'gate', input: { key: 'c' } });
    await first.services.drain({ graceMs: 0 });
    await first.services.close();
    open.splice(open.indexOf(first.services), 1);

    const second = await setup({ database, limits: { maxConcurrentRunsPerUser: 1 } });
    const again = await second.as('alice');
    // The key still names its run after the restart, and it is still queued.
    expect(await again.runs.start({ agent: 'gate', input: { key: 'b' }, idempotencyKey: 'kb' })).toMatchObject({
      runId: b.runId,
      threadId: b.threadId,
    });
    expect((await second.services.db.getRunRecord(a.runId))?.status).toBe('interrupted');
    await eventually(() => second.gates.isWaiting('b'));
    expect((await again.runs.get({ runId: c.runId })).run).toMatchObject({ queued: { position: 1 } });
    second.gates.release('b');
    await eventually(() => second.gates.isWaiting('c'));
    second.gates.release('c');
    await eventually(async () => (await second.services.db.getRunRecord(c.runId))?.status === 'completed');
    expect(second.gates.started).toEqual(['b', 'c']);
  });
});
