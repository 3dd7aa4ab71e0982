import type { RunEvent } from '@toolrun/api';
import { RUN_ID_META } from '@toolrun/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, createClient, eventually, login, orderingProblems, startTestServer } from '../helpers.ts';
import { connectMcp } from './support.ts';

// Toolrun's /mcp on a real server (SQLite file, ephemeral port), reached by the official SDK Client
// over StreamableHTTPClientTransport; runs are checked through the typed tRPC client.

let server: Awaited<ReturnType<typeof startTestServer>>;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  server = await startTestServer();
  aliceToken = await login(server.url, 'alice');
  bobToken = await login(server.url, 'bob');
});

afterAll(async () => {
  await server?.stop();
});

function trpcAs(token: string) {
  return createClient(server.url, { transport: 'sse', token }).client;
}

function runIdOf(result: { _meta?: Record<string, unknown> | undefined }): string {
  const runId = result._meta?.[RUN_ID_META];
  if (typeof runId !== 'string') throw new Error('the result names no run');
  return runId;
}

describe('Toolrun as an MCP server at /mcp', () => {
  it("lists the caller's tools and each agent as agent__<name>, every input an object schema; admin tools for admins only", async () => {
    const alice = await connectMcp(server.url, aliceToken);
    const admin = await connectMcp(server.url, await login(server.url, 'root', 'admin'));
    try {
      const { tools } = await alice.client.listTools();
      const names = tools.map((t) => t.name);
      const visible = await trpcAs(aliceToken).tools.list.query();
      const agents = await trpcAs(aliceToken).agents.list.query();
      expect(names).toEqual([...visible.map((t) => t.name), ...agents.map((a) => `agent__${a.name}`)]);
      expect(names).toContain('calculator');
      expect(names).toContain('agent__research');
      expect(tools.every((t) => t.inputSchema.type === 'object')).toBe(true);
      const adminOnly = server.services.factory.tools.list().filter((t) => t.access === 'admin');
      expect(adminOnly.length).toBeGreaterThan(0);
      expect(names.some((n) => adminOnly.some((t) => t.name === n))).toBe(false);
      const adminNames = (await admin.client.listTools()).tools.map((t) => t.name);
      for (const t of adminOnly) expect(adminNames).toContain(t.name);
    } finally {
      await alice.close();
      await admin.close();
    }
  });

  it("calls a tool as a one-call run in the caller's history, with its events, that another user never sees", async () => {
    const alice = await connectMcp(server.url, aliceToken);
    try {
      const result = await alice.client.callTool({ name: 'calculator', arguments: { expression: '6*7' } });
      expect(result.isError).not.toBe(true);
      expect(result.structuredContent).toMatchObject({ result: 42 });
      const runId = runIdOf(result);
      const detail = await trpcAs(aliceToken).runs.get.query({ runId });
      expect(detail.run).toMatchObject({ userId: 'alice', agent: '(direct)', status: 'completed' });
      const events = detail.events as RunEvent[];
      expect(orderingProblems(events)).toEqual([]);
      expect(events.map((e) => e.type)).toEqual([
        'agent_started',
        'tool_executing',
        'tool_completed',
        'agent_completed',
      ]);
      expect(await codeOf(trpcAs(bobToken).runs.get.query({ runId }))).toBe('NOT_FOUND');
      const bobsRuns = await trpcAs(bobToken).runs.list.query({ limit: 100 });
      expect(bobsRuns.items.some((r) => r.id === runId)).toBe(false);
    } finally {
      await alice.close();
    }
  });

  it('calls an agent: its thoughts arrive as progress notifications, then its result, and the run is stored', async () => {
    const alice = await connectMcp(server.url, aliceToken);
    try {
      const progress: { progress: number; message?: string | undefined }[] = [];
      const result = await alice.client.callTool(
        { name: 'agent__research', arguments: { question: 'How does the circuit breaker work?' } },
        undefined,
        { onprogress: (p) => progress.push(p) },
      );
      expect(result.isError).not.toBe(true);
      const runId = runIdOf(result);
      const detail = await trpcAs(aliceToken).runs.get.query({ runId });
      expect(detail.run).toMatchObject({ userId: 'alice', agent: 'research', status: 'completed' });
      const thoughts = (detail.events as RunEvent[]).filter((e) => e.type === 'agent_thinking');
      expect(thoughts.length).toBeGreaterThan(0);
      expect(progress.map((p) => p.message)).toEqual(thoughts.map((t) => (t.type === 'agent_thinking' ? t.text : '')));
      expect(progress.map((p) => p.progress)).toEqual(thoughts.map((t) => (t.type === 'agent_thinking' ? t.step : 0)));
    } finally {
      await alice.close();
    }
  });

  for (const [what, name, args] of [
    ['a tool', 'slow_task', { steps: 100, delayMs: 200 }],
    ['an agent', 'agent__slow', { steps: 40, delayMs: 250 }],
  ] as const) {
    it(`cancelling ${what} mid-call (notifications/cancelled) ends its run cancelled, with all its events`, async () => {
      const alice = await connectMcp(server.url, aliceToken);
      const trpc = trpcAs(aliceToken);
      try {
        const before = new Set((await trpc.runs.list.query({ limit: 100 })).items.map((r) => r.id));
        const abort = new AbortController();
        const call = alice.client.callTool({ name, arguments: args }, undefined, { signal: abort.signal });
        call.catch(() => undefined);
        // The run is under way once it shows in alice's history with a tool call in flight.
        const runId = await eventually(async () => {
          const running = (await trpc.runs.list.query({ limit: 100, status: 'running' })).items;
          const mine = running.find((r) => !before.has(r.id));
          if (mine === undefined) return undefined;
          const { events } = await trpc.runs.get.query({ runId: mine.id });
          return events.some((e) => e.type === 'tool_executing') ? mine.id : undefined;
        });
        abort.abort('the user changed their mind');
        await expect(call).rejects.toThrow();
        const detail = await eventually(async () => {
          const d = await trpc.runs.get.query({ runId });
          return d.run.status === 'running' ? undefined : d;
        });
        expect(detail.run.status).toBe('cancelled');
        const events = detail.events as RunEvent[];
        expect(orderingProblems(events)).toEqual([]);
        expect(events.at(-1)).toMatchObject({ type: 'agent_completed', status: 'cancelled' });
        expect(events.some((e) => e.type === 'tool_completed' && e.status === 'cancelled')).toBe(true);
      } finally {
        await alice.close();
      }
    });
  }

  it("answers failures as isError results with the dispatcher's code and a readable message, never a stack", async () => {
    const alice = await connectMcp(server.url, aliceToken);
    try {
      const adminTool = server.services.factory.tools.list().find((t) => t.access === 'admin')?.name ?? '';
      const cases = [
        [{ name: 'calculator', arguments: { expression: 42 } }, 'INVALID_INPUT'],
        [{ name: 'no_such_tool', arguments: {} }, 'UNKNOWN_TOOL'],
        [{ name: adminTool, arguments: {} }, 'UNKNOWN_TOOL'],
        [{ name: 'agent__no_such_agent', arguments: {} }, 'UNKNOWN_TOOL'],
        [{ name: 'agent__slow', arguments: { steps: 'many' } }, 'INVALID_INPUT'],
      ] as const;
      for (const [params, code] of cases) {
        const result = await alice.client.callTool(params);
        expect(result.isError, params.name).toBe(true);
        const text = JSON.stringify(result.content);
        expect(text).toContain(code);
        expect(text).not.toMatch(/\n\s+at /);
      }
    } finally {
      await alice.close();
    }
  });
});
