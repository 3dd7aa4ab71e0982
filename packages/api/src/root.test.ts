import type { RunEvent } from '@toolrun/dispatcher';
import { afterEach, describe, expect, it } from 'vitest';
import { caught } from './caught.testSupport.ts';
import { createContext } from './context.ts';
import { appRouter } from './root.ts';
import type { ToolrunServices } from './services.ts';
import { createToolrunServices } from './services.ts';
import { createCallerFactory } from './trpc.ts';

const SECRET = 'a-secret-for-the-router-tests-0123456789';
const createCaller = createCallerFactory(appRouter);
let services: ToolrunServices | undefined;

afterEach(async () => {
  await services?.drain({ graceMs: 1_000 });
  await services?.close();
  services = undefined;
});

async function setup(): Promise<ToolrunServices> {
  services = await createToolrunServices({ database: ':memory:', auth: { mode: 'dev', secret: SECRET } });
  return services;
}

describe('createContext', () => {
  it('finds the token in the Authorization header, then in connection params ({ token } or { authorization })', async () => {
    const s = await setup();
    const { token } = await s.auth.issue({ userId: 'alice', roles: ['user'] });
    for (const where of [
      { authorization: `Bearer ${token}` },
      { connectionParams: { token } },
      { connectionParams: { authorization: `bearer ${token}` } },
    ]) {
      const ctx = await createContext({ services: s, ...where });
      expect(ctx.principal).toEqual({ userId: 'alice', roles: ['user'] });
      expect(ctx.tokenExpiresAtMs).toBeGreaterThan(Date.now());
    }
  });

  it('never throws for a bad token: the context is anonymous and remembers why', async () => {
    const s = await setup();
    const none = await createContext({ services: s });
    expect(none).toMatchObject({ principal: null, authError: null });
    const bad = await createContext({ services: s, authorization: 'Bearer not.a.token' });
    expect(bad.principal).toBeNull();
    expect(bad.authError?.code).toBe('INVALID_TOKEN');
    const caller = createCaller(bad);
    const error = await caught(caller.auth.me());
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('not valid');
  });
});

describe('the router', () => {
  it('maps errors thrown below a resolver through toTRPCError (a closed database is SERVICE_UNAVAILABLE)', async () => {
    const s = await setup();
    const { token } = await s.auth.issue({ userId: 'alice', roles: ['user'] });
    const caller = createCaller(await createContext({ services: s, authorization: `Bearer ${token}` }));
    await s.close();
    const error = await caught(caller.runs.get({ runId: 'some-run' }));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    services = undefined;
  });

  it('finds a run right after runs.start, even one that ended before its events were committed', async () => {
    const s = await setup();
    const { token } = await s.auth.issue({ userId: 'alice', roles: ['user'] });
    const caller = createCaller(await createContext({ services: s, authorization: `Bearer ${token}` }));
    for (let i = 0; i < 5; i += 1) {
      const { runId, threadId } = await caller.runs.start({ agent: 'calculator', input: {}, threadId: 'thread-42' });
      expect(threadId).toBe('thread-42');
      // No await between start and the lookup but the router's own.
      const detail = await caller.runs.get({ runId });
      expect(detail.run.userId).toBe('alice');
      const { runId: next } = await caller.runs.start({ agent: 'calculator', input: {} });
      const events: RunEvent[] = [];
      for await (const message of await caller.runs.events({ runId: next })) {
        // A server-side caller yields tracked envelopes as [id, events] tuples, whatever its type says.
        const raw: unknown = message;
        events.push(...(Array.isArray(raw) ? (raw[1] as RunEvent[]) : message.data));
      }
      expect(events.at(-1)?.type).toBe('agent_completed');
    }
  });

  it('refuses invalid agent input with BAD_REQUEST naming the field, before any event', async () => {
    const s = await setup();
    const { token } = await s.auth.issue({ userId: 'alice', roles: ['user'] });
    const caller = createCaller(await createContext({ services: s, authorization: `Bearer ${token}` }));
    const refused = await caught(caller.runs.start({ agent: 'slow', input: { steps: 'many' } }));
    expect(refused.code).toBe('BAD_REQUEST');
    expect(refused.message).toContain('steps');
    expect((await s.db.listRuns({ limit: 10 })).items).toEqual([]);
  });
});
