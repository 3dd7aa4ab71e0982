import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { AppRouter } from '@toolrun/api';
import { defineAgent } from '@toolrun/dispatcher';
import { parseMcpConfig } from '@toolrun/mcp';
import { parseTraceParent } from '@toolrun/telemetry';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { collect, createClient, eventually, login, startTestServer } from '../helpers.ts';
import type { ReceivedSpan } from './support/otlpReceiver.ts';
import { startOtlpReceiver } from './support/otlpReceiver.ts';

// A real MCP server (the SDK's McpServer over Streamable HTTP, in this process, on an ephemeral port)
// that records the `_meta` and HTTP headers of each tools/call and makes a span of its own under the
// received traceparent, exported to the same real OTLP/HTTP receiver as Toolrun's spans.

interface Received {
  meta: Record<string, unknown> | undefined;
  headers: IncomingHttpHeaders;
}

const received: Received[] = [];
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let mcpHttp: Server;
let mcpProvider: BasicTracerProvider;
let toolrun: Awaited<ReturnType<typeof startTestServer>>;
let token: string;

/** A new MCP session whose `whoami` tool records what each call carried. */
async function openSession(
  transports: Map<string, StreamableHTTPServerTransport>,
  tracer: ReturnType<BasicTracerProvider['getTracer']>,
): Promise<StreamableHTTPServerTransport> {
  const server = new McpServer({ name: 'traced', version: '1.0.0' });
  server.registerTool(
    'whoami',
    { description: 'Says who called, and records how', inputSchema: {} },
    (_args, extra) => {
      received.push({ meta: extra._meta, headers: extra.requestInfo?.headers ?? {} });
      const traceparent = extra._meta?.traceparent;
      const parent = typeof traceparent === 'string' ? parseTraceParent({ traceparent }) : undefined;
      tracer.startSpan('mcp.server whoami', {}, parent).end();
      return { content: [{ type: 'text', text: 'you' }], structuredContent: { you: true } };
    },
  );
  const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (sid: string): void => {
      transports.set(sid, transport);
    },
  });
  await server.connect(transport);
  return transport;
}

async function startTracedMcpServer(): Promise<number> {
  const tracer = mcpProvider.getTracer('mcp-server');
  const transports = new Map<string, StreamableHTTPServerTransport>();
  mcpHttp = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? transports.get(id) : undefined;
    const transport = known ?? (await openSession(transports, tracer));
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => mcpHttp.listen(0, '127.0.0.1', resolve));
  return (mcpHttp.address() as AddressInfo).port;
}

const asksWho = defineAgent({
  name: 'asks-who',
  description: 'Calls the traced MCP server once',
  input: z.object({}),
  run: async (_input, ctx) => {
    await ctx.callTool('traced__whoami', {});
    return { done: true };
  },
});

// The SDK's batch processor exports every 5 s by default: sooner, so the test waits less.
const scheduleDelay = process.env.OTEL_BSP_SCHEDULE_DELAY;

beforeAll(async () => {
  process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
  receiver = await startOtlpReceiver();
  mcpProvider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'mcp-server-under-test' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${receiver.endpoint}/v1/traces` }))],
  });
  const port = await startTracedMcpServer();
  const mcp = parseMcpConfig(
    JSON.stringify({ sources: { traced: { url: `http://127.0.0.1:${port}/mcp`, pingIntervalMs: 0 } } }),
    { env: {}, dataDir: '/nonexistent', baseDir: '/' },
  );
  toolrun = await startTestServer({
    mcp,
    extraAgents: [asksWho],
    tracing: {
      endpoint: `${receiver.endpoint}/v1/traces`,
      protocol: 'http/json',
      serviceName: 'toolrun',
      recordContent: false,
    },
  });
  token = await login(toolrun.url, 'alice');
}, 60_000);

afterAll(async () => {
  if (scheduleDelay === undefined) delete process.env.OTEL_BSP_SCHEDULE_DELAY;
  else process.env.OTEL_BSP_SCHEDULE_DELAY = scheduleDelay;
  await toolrun?.stop();
  await mcpProvider?.shutdown();
  await new Promise<void>((resolve) => (mcpHttp === undefined ? resolve() : mcpHttp.close(() => resolve())));
  await receiver?.close();
});

const callOf = (spans: ReceivedSpan[], root: ReceivedSpan) =>
  spans.find((s) => s.name === 'execute_tool traced__whoami' && s.parentSpanId === root.spanId);

/** Runs `asks-who` (with the request's `headers`) and returns its spans and what the MCP server got. */
async function runTraced(headers: Record<string, string> = {}) {
  const before = received.length;
  const starter = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${toolrun.url}/trpc`, headers: { authorization: `Bearer ${token}`, ...headers } })],
  });
  const { runId } = await starter.runs.start.mutate({ agent: 'asks-who', input: {} });
  const { client } = createClient(toolrun.url, { transport: 'sse', token });
  const events = await collect((callbacks) => client.runs.events.subscribe({ runId }, callbacks)).done;
  const completed = events.flatMap((m) => m.events).find((e) => e.type === 'tool_completed');
  expect(completed).toMatchObject({ tool: 'traced__whoami', status: 'success' });
  const got = received.slice(before);
  expect(got).toHaveLength(1);
  const traceparent = got[0]?.meta?.traceparent;
  if (typeof traceparent !== 'string') throw new Error('no traceparent in _meta');
  const [, traceId, parentSpanId] = traceparent.split('-');
  const spans = await eventually(() => {
    const root = receiver.spans.find(
      (s) => s.attributes['toolrun.run.id'] === runId && s.name === 'invoke_agent asks-who',
    );
    const call = root === undefined ? undefined : callOf(receiver.spans, root);
    const server = receiver.spans.find((s) => s.name === 'mcp.server whoami' && s.traceId === traceId);
    return root && call && server ? { root, call, server } : undefined;
  });
  return { got: got[0], traceparent, traceId, parentSpanId, ...spans };
}

describe('MCP tool calls carry the run’s trace context out', () => {
  it("sends the execute_tool span's traceparent in _meta and as the HTTP header; the MCP server's span joins the run's trace under it", async () => {
    const { got, traceparent, traceId, parentSpanId, root, server } = await runTraced();
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(got?.headers.traceparent).toBe(traceparent);
    const call = callOf(receiver.spans, root);
    expect(traceId).toBe(root.traceId);
    expect(parentSpanId).toBe(call?.spanId);
    expect(call?.traceId).toBe(root.traceId);
    // The server's own span, exported by its own SDK, is the call span's child in the run's trace.
    expect(server).toMatchObject({
      traceId: root.traceId,
      parentSpanId: call?.spanId,
      serviceName: 'mcp-server-under-test',
    });
  });

  it("keeps the request's trace: the traceparent of runs.start is the run's parent, its tracestate goes on to the MCP server", async () => {
    const parentTrace = '0af7651916cd43dd8448eb211c80319c';
    const { got, traceId, parentSpanId, root } = await runTraced({
      traceparent: `00-${parentTrace}-b7ad6b7169203331-01`,
      tracestate: 'congo=t61rcWkgMzE',
    });
    expect(root).toMatchObject({ traceId: parentTrace, parentSpanId: 'b7ad6b7169203331' });
    expect(traceId).toBe(parentTrace);
    expect(parentSpanId).toBe(callOf(receiver.spans, root)?.spanId);
    expect(got?.meta?.tracestate).toBe('congo=t61rcWkgMzE');
    expect(got?.headers.tracestate).toBe('congo=t61rcWkgMzE');
  });
});
