import type { RunEvent } from '@toolrun/api';
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from '../helpers.ts';
import { codeOf, collect, createClient, login, startTestServer, tempDir } from '../helpers.ts';

const dir = tempDir();
const dbPath = `${dir.dir}/toolrun.db`;
afterAll(() => dir.remove());

async function signedIn(url: string, user: string, role: 'user' | 'admin' = 'user'): Promise<Client> {
  return createClient(url, { transport: 'sse', token: await login(url, user, role) }).client;
}

async function runCalculator(client: Client): Promise<RunEvent[]> {
  const { runId } = await client.runs.start.mutate({ agent: 'calculator', input: { question: 'What is 2+3?' } });
  const stream = collect((callbacks) => client.runs.events.subscribe({ runId }, callbacks));
  await stream.done;
  return stream.events();
}

const calculatorCalls = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'tool_completed' && e.tool === 'calculator' ? [e] : []));

describe('the admin kill switch per tool (tools.setEnabled)', () => {
  it('refuses a disabled tool at once with TOOL_DISABLED, keeps it disabled across a restart, and runs it again once enabled', async () => {
    const first = await startTestServer({ database: dbPath });
    try {
      const admin = await signedIn(first.url, 'root', 'admin');
      const alice = await signedIn(first.url, 'alice');
      const change = await admin.tools.setEnabled.mutate({
        tool: 'calculator',
        enabled: false,
        reason: 'wrong results',
      });
      expect(change).toMatchObject({ tool: 'calculator', enabled: false, reason: 'wrong results', changedBy: 'root' });

      const listed = (await alice.tools.list.query()).find((t) => t.name === 'calculator');
      expect(listed).toMatchObject({ enabled: false, lastChange: { changedBy: 'root', reason: 'wrong results' } });
      const refused = calculatorCalls(await runCalculator(alice));
      expect(refused.length).toBeGreaterThan(0);
      for (const call of refused) {
        expect(call).toMatchObject({ status: 'error', error: { code: 'TOOL_DISABLED' } });
        expect(call.error?.message).toContain('wrong results');
      }
    } finally {
      await first.close();
    }

    const second = await startTestServer({ database: dbPath });
    try {
      const admin = await signedIn(second.url, 'root', 'admin');
      const alice = await signedIn(second.url, 'alice');
      const stillRefused = calculatorCalls(await runCalculator(alice));
      expect(stillRefused.every((c) => c.error?.code === 'TOOL_DISABLED')).toBe(true);

      await admin.tools.setEnabled.mutate({ tool: 'calculator', enabled: true, reason: 'fixed in 1.2' });
      const events = await runCalculator(alice);
      expect(calculatorCalls(events).map((c) => c.status)).toEqual(calculatorCalls(events).map(() => 'success'));
      expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'completed' });

      const history = await admin.tools.switchHistory.query({ tool: 'calculator' });
      expect(history.map((h) => [h.enabled, h.reason, h.changedBy])).toEqual([
        [true, 'fixed in 1.2', 'root'],
        [false, 'wrong results', 'root'],
      ]);
    } finally {
      await second.close();
    }
  });

  it('lets only admins switch tools, refuses unknown tools and a missing reason, and keeps a user from reading the history', async () => {
    const server = await startTestServer();
    try {
      const admin = await signedIn(server.url, 'root', 'admin');
      const alice = await signedIn(server.url, 'alice');
      const anonymous = createClient(server.url, { transport: 'sse' }).client;
      const off = { tool: 'search', enabled: false, reason: 'because' };
      expect(await codeOf(alice.tools.setEnabled.mutate(off))).toBe('FORBIDDEN');
      expect(await codeOf(anonymous.tools.setEnabled.mutate(off))).toBe('UNAUTHORIZED');
      expect(await codeOf(alice.tools.switchHistory.query())).toBe('FORBIDDEN');
      expect(await codeOf(admin.tools.setEnabled.mutate({ ...off, tool: 'no_such_tool' }))).toBe('NOT_FOUND');
      expect(await codeOf(admin.tools.setEnabled.mutate({ ...off, reason: '   ' }))).toBe('BAD_REQUEST');
      expect(await codeOf(admin.tools.setEnabled.mutate({ ...off, reason: 'x'.repeat(501) }))).toBe('BAD_REQUEST');
      // Nothing above took effect.
      expect((await alice.tools.list.query()).every((t) => t.enabled)).toBe(true);
      expect(await admin.tools.switchHistory.query()).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
