import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createContext } from '../context.ts';
import { appRouter } from '../root.ts';
import { createToolrunServices, type ToolrunServices } from '../services.ts';
import { createCallerFactory } from '../trpc.ts';
import { eventually, gateAgent } from './gateAgent.testSupport.ts';

const SECRET = 'a-secret-for-the-queue-properties-0123456789';
const createCaller = createCallerFactory(appRouter);
const USERS = ['u0', 'u1', 'u2'] as const;
const open: ToolrunServices[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) {
    await s.drain({ graceMs: 0 });
    await s.close();
  }
});

async function setup(limit: number) {
  const gates = gateAgent();
  const services = await createToolrunServices({
    database: ':memory:',
    auth: { mode: 'dev', secret: SECRET },
    extraAgents: [gates.agent],
    limits: { maxConcurrentRunsPerUser: limit },
    starts: { maxQueuedRunsPerUser: 1_000 },
  });
  open.push(services);
  const callers = new Map<string, ReturnType<typeof createCaller>>();
  for (const userId of USERS) {
    const { token } = await services.auth.issue({ userId, roles: ['user'] });
    callers.set(userId, createCaller(await createContext({ services, authorization: `Bearer ${token}` })));
  }
  const as = (userId: string) => {
    const caller = callers.get(userId);
    if (caller === undefined) throw new Error(`no caller for ${userId}`);
    return caller;
  };
  return { services, gates, as };
}

type Command =
  | { kind: 'start'; user: number }
  | { kind: 'finish'; user: number }
  | { kind: 'cancel'; user: number; pick: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('start' as const), user: fc.nat(USERS.length - 1) }),
  fc.record({ kind: fc.constant('finish' as const), user: fc.nat(USERS.length - 1) }),
  fc.record({ kind: fc.constant('cancel' as const), user: fc.nat(USERS.length - 1), pick: fc.nat(10) }),
);

describe('the run queue, as a property', () => {
  it('starts each user’s runs in order, never above the limit, and starves nobody', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 }),
        fc.array(command, { maxLength: 14 }),
        async (limit, commands) => {
          const { gates, as, services } = await setup(limit);
          // The model: per user, runs accepted and not yet finished or cancelled, oldest first.
          const outstanding = new Map<string, { key: string; runId: string }[]>(USERS.map((u) => [u, []]));
          const accepted = new Map<string, string[]>(USERS.map((u) => [u, []]));
          const cancelled = new Set<string>();
          let n = 0;
          const list = (user: string) => outstanding.get(user) ?? [];
          // Settled: exactly the first `limit` outstanding runs of each user are running.
          const settled = () =>
            USERS.every((user) => list(user).every((run, i) => gates.isWaiting(run.key) === i < limit));
          for (const c of commands) {
            const user = USERS[c.user] ?? 'u0';
            const runs = list(user);
            if (c.kind === 'start') {
              n += 1;
              const key = `${user}-${n}`;
              const answer = await as(user).runs.start({ agent: 'gate', input: { key } });
              // A user below the limit starts at once; one at it gets the place behind the others.
              expect(answer.queued).toEqual(runs.length < limit ? undefined : { position: runs.length - limit + 1 });
              runs.push({ key, runId: answer.runId });
              accepted.get(user)?.push(key);
            } else if (c.kind === 'finish') {
              const oldest = runs[0];
              if (oldest === undefined) continue;
              expect(gates.release(oldest.key)).toBe(true);
              runs.shift();
            } else {
              const queued = runs.slice(limit);
              const victim = queued[c.pick % Math.max(1, queued.length)];
              if (victim === undefined) continue;
              expect(await as(user).runs.cancel({ runId: victim.runId })).toMatchObject({ cancelled: true });
              runs.splice(runs.indexOf(victim), 1);
              cancelled.add(victim.key);
            }
            await eventually(settled);
            for (const [user, peak] of gates.peak) expect(peak, user).toBeLessThanOrEqual(limit);
          }
          // Drain everything: every run that was not cancelled starts, each user's in the order accepted.
          for (;;) {
            const next = USERS.flatMap((user) =>
              list(user)
                .slice(0, 1)
                .map((run) => ({ user, run })),
            );
            if (next.length === 0) break;
            for (const { user, run } of next) {
              gates.release(run.key);
              list(user).shift();
            }
            await eventually(settled);
          }
          for (const user of USERS) {
            const started = gates.started.filter((key) => key.startsWith(`${user}-`));
            expect(started).toEqual((accepted.get(user) ?? []).filter((key) => !cancelled.has(key)));
          }
          await services.drain({ graceMs: 1_000 });
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);

  it('serves many users at once, with cancels, each in order and within the limit', async () => {
    const { gates, services } = await setup(1);
    const users = Array.from({ length: 24 }, (_, i) => `many-${i}`);
    const callers = await Promise.all(
      users.map(async (userId) => {
        const { token } = await services.auth.issue({ userId, roles: ['user'] });
        return createCaller(await createContext({ services, authorization: `Bearer ${token}` }));
      }),
    );
    const answers = await Promise.all(
      callers.map((caller, u) =>
        Promise.all([0, 1, 2, 3].map((i) => caller.runs.start({ agent: 'gate', input: { key: `many-${u}-${i}` } }))),
      ),
    );
    // Each user: one running, three queued at positions 1..3 (in whatever order the starts landed).
    for (const mine of answers) {
      expect(mine.map((a) => a.queued?.position ?? 0).sort()).toEqual([0, 1, 2, 3]);
    }
    // Every user cancels their second queued run, all at once.
    const victims = answers.map((mine) => mine.find((a) => a.queued?.position === 2)?.runId ?? '');
    await Promise.all(victims.map((runId, u) => callers[u]?.runs.cancel({ runId })));
    const keyOf = (u: number, runId: string) => `many-${u}-${answers[u]?.findIndex((a) => a.runId === runId)}`;
    for (let round = 0; round < 3; round += 1) {
      await eventually(() =>
        users.every((_, u) => gates.started.filter((k) => k.startsWith(`many-${u}-`)).length > round),
      );
      for (const key of [...gates.started]) gates.release(key);
    }
    await eventually(() => gates.started.length === users.length * 3);
    for (const [user, peak] of gates.peak) expect(peak, user).toBe(1);
    for (let u = 0; u < users.length; u += 1) {
      const order = (answers[u] ?? [])
        .filter((a) => a.runId !== victims[u])
        .sort((x, y) => (x.queued?.position ?? 0) - (y.queued?.position ?? 0))
        .map((a) => keyOf(u, a.runId));
      expect(gates.started.filter((k) => k.startsWith(`many-${u}-`))).toEqual(order);
    }
  }, 60_000);
});
