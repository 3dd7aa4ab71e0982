import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppRouter, RunEvent } from '@toolrun/api';
import { defineAgent, defineTool, type JsonValue } from '@toolrun/dispatcher';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { collect, createClient, eventually, login, startTestServer } from '../helpers.ts';
import type { ChildServer } from '../reliability/support/childServer.ts';
import { freePort, killAllChildServers, spawnServer } from '../reliability/support/childServer.ts';
import type { ReceivedSpan } from './support/otlpReceiver.ts';
import { startOtlpReceiver } from './support/otlpReceiver.ts';

// The real server process, exporting with the real OTLP/HTTP exporter to a real receiver.
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let server: ChildServer;
let token: string;
const dataDir = mkdtempSync(join(tmpdir(), 'toolrun-traces-'));
const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  server = await spawnServer({
    port: await freePort(),
    dataDir,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'toolrun-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      TOOLRUN_TRACE_CONTENT: 'true',
    },
  });
  token = await login(server.url, 'alice');
}, 90_000);
afterAll(async () => {
  await killAllChildServers();
  await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function run(agent: string, input: { [key: string]: JsonValue }, headers: Record<string, string> = {}) {
  const starter = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${server.url}/trpc`, headers: { authorization: `Bearer ${token}`, ...headers } })],
  });
  const { runId } = await starter.runs.start.mutate({ agent, input });
  const { client } = createClient(server.url, { transport: 'sse', token });
  const stream = collect((callbacks) => client.runs.events.subscribe({ runId }, callbacks));
  await stream.done;
  const spans = await eventually(() => {
    const mine = receiver.spans.filter((s) => s.attributes['toolrun.run.id'] === runId);
    const expected = stream.events().filter((e) => e.type === 'tool_executing').length + 1;
    return mine.length === expected ? mine : undefined;
  });
  return { runId, events: stream.events(), spans };
}

const rootOf = (spans: ReceivedSpan[]) => spans.find((s) => s.attributes['gen_ai.tool.call.id'] === undefined);
const callSpan = (spans: ReceivedSpan[], callId: string) =>
  spans.find((s) => s.attributes['gen_ai.tool.call.id'] === callId);

describe('OpenTelemetry traces over OTLP/HTTP', () => {
  it('exports a run of `delegate` as invoke_agent with execute_tool children and sub-agent calls nested, under the request traceparent', async () => {
    const { runId, events, spans } = await run(
      'delegate',
      { question: 'What is Toolrun and what is 6*7?' },
      { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` },
    );
    const root = rootOf(spans);
    expect(root).toMatchObject({
      name: 'invoke_agent delegate',
      traceId: PARENT_TRACE,
      parentSpanId: PARENT_SPAN,
      serviceName: 'toolrun-under-test',
    });
    expect(root?.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'delegate',
      'toolrun.run.id': runId,
      'toolrun.user.id': 'alice',
      'toolrun.status': 'completed',
      'toolrun.seq.first': 1,
      'toolrun.seq.last': events.length,
    });
    const executing = events.filter((e): e is RunEvent & { type: 'tool_executing' } => e.type === 'tool_executing');
    for (const call of executing) {
      const span = callSpan(spans, call.callId);
      const parent = call.parentCallId === undefined ? root : callSpan(spans, call.parentCallId);
      expect(span?.traceId).toBe(PARENT_TRACE);
      expect(span?.parentSpanId).toBe(parent?.spanId);
      expect(span?.name).toBe(
        call.tool.startsWith('agent:') ? `invoke_agent ${call.tool.slice(6)}` : `execute_tool ${call.tool}`,
      );
    }
    // delegate runs sub-agents, whose own calls are nested one level down.
    expect(executing.some((e) => e.parentCallId !== undefined)).toBe(true);
  });

  it('shows the parallel calls of `parallel` overlapping in time', async () => {
    const { spans } = await run('parallel', { topics: ['alpha', 'beta', 'gamma'] });
    const calls = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool');
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.every((s) => s.parentSpanId === rootOf(spans)?.spanId)).toBe(true);
    const overlapping = calls.some((a) => calls.some((b) => a !== b && a.startMs < b.endMs && b.startMs < a.endMs));
    expect(overlapping).toBe(true);
  });

  it('exports only the redacted form of inputs and outputs, and none at all unless TOOLRUN_TRACE_CONTENT is on', async () => {
    const secretTool = defineTool({
      name: 'login_somewhere',
      description: 'takes a password',
      input: z.object({ user: z.string(), password: z.string() }),
      access: 'user',
      run: ({ user }) => ({ user, session_token: 'tok-never-export-me' }),
    });
    const agent = defineAgent({
      name: 'secretive',
      description: 'passes a password to a tool',
      input: z.object({ password: z.string() }),
      run: async ({ password }, ctx) => {
        await ctx.callTool('login_somewhere', { user: 'alice', password });
        return { done: true };
      },
    });
    for (const recordContent of [true, false]) {
      const local = await startOtlpReceiver();
      const inProcess = await startTestServer({
        extraTools: [secretTool],
        extraAgents: [agent],
        tracing: {
          endpoint: `${local.endpoint}/v1/traces`,
          protocol: 'http/json',
          serviceName: 'toolrun',
          recordContent,
        },
      });
      try {
        const { client } = createClient(inProcess.url, {
          transport: 'sse',
          token: await login(inProcess.url, 'alice'),
        });
        const { runId } = await client.runs.start.mutate({
          agent: 'secretive',
          input: { password: 'pw-never-export-me' },
        });
        await collect((callbacks) => client.runs.events.subscribe({ runId }, callbacks)).done;
      } finally {
        // Closing flushes the exporter.
        await inProcess.stop();
      }
      const exported = local.bodies.join('\n');
      await local.close();
      expect(local.spans.map((s) => s.name).sort()).toEqual(['execute_tool login_somewhere', 'invoke_agent secretive']);
      expect(exported).not.toContain('pw-never-export-me');
      expect(exported).not.toContain('tok-never-export-me');
      expect(exported.includes('[REDACTED]')).toBe(recordContent);
    }
  });
});
