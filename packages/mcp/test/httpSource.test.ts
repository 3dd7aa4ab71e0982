import { createServer } from 'node:net';
import { createDispatcherFactory, createMemorySink, type ToolResult } from '@toolrun/dispatcher';
import { afterEach, describe, expect, it } from 'vitest';
import { McpConfigError, parseMcpConfig, startMcpToolSources } from '../src/index.ts';
import { type McpHttpServerProcess, startMcpHttpServer } from './support/startMcpHttpServer.ts';
import { waitFor } from './support/waitFor.ts';

const TOKEN = 'test-token-for-the-mcp-server';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function configFor(port: number, tools: Record<string, unknown> = {}) {
  const text = JSON.stringify({
    sources: {
      remote: {
        url: `http://127.0.0.1:${port}/mcp`,
        // A reference to the environment, as the configuration requires for a secret.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the configuration's own ${NAME} syntax
        headers: { Authorization: 'Bearer ${TEST_MCP_TOKEN}' },
        pingIntervalMs: 0,
        // Generous: a loaded machine can take seconds to start a process.
        connectTimeoutMs: 60_000,
        tools,
      },
    },
  });
  return parseMcpConfig(text, { env: { TEST_MCP_TOKEN: TOKEN }, dataDir: '/nonexistent', baseDir: '/' });
}

async function server(opts: { port?: number; collide?: boolean } = {}): Promise<McpHttpServerProcess> {
  const started = await startMcpHttpServer({ ...opts, token: TOKEN });
  cleanups.push(() => started.kill());
  return started;
}

async function toolrun(port: number, tools: Record<string, unknown> = {}) {
  const sources = await startMcpToolSources(configFor(port, tools));
  cleanups.push(() => sources.close());
  const sink = createMemorySink();
  const factory = createDispatcherFactory({ tools: sources.tools(), sink });
  sources.subscribe(() => factory.replaceTools(sources.tools()));
  const call = async (tool: string, input: unknown, signal?: AbortSignal): Promise<ToolResult> => {
    await using scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
    return await scope.execute(tool, input, signal ? { signal } : {});
  };
  return { sources, factory, sink, call };
}

async function stats(call: (tool: string, input: unknown) => Promise<ToolResult>) {
  const result = await call('remote__stats', {});
  return result.status === 'success' ? (result.output as { cancelled: number; calls: number }) : undefined;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('a Streamable HTTP MCP server (McpServer, its own process) as a tool source', { timeout: 90_000 }, () => {
  it('lists every page of tools as <source>__<tool> with the server schema, and runs them through every guard', async () => {
    const mcp = await server();
    const { factory, sink, call } = await toolrun(mcp.port);
    const listed = factory.tools.list();
    // Seven tools in three pages of three.
    expect(listed.map((t) => t.name)).toEqual([
      'remote__echo',
      'remote__slow',
      'remote__fail',
      'remote__stats',
      'remote__plain',
      'remote__refs',
      'remote__add_tool',
    ]);
    expect(listed.every((t) => t.source === 'remote' && t.access === 'user')).toBe(true);
    expect(listed.find((t) => t.name === 'remote__refs')?.inputSchema).toMatchObject({ $defs: { item: {} } });

    expect(await call('remote__echo', { text: 'hi' })).toMatchObject({
      status: 'success',
      output: { text: 'hi', pid: mcp.pid },
    });
    const events = sink.events().filter((e) => e.type === 'tool_executing' || e.type === 'tool_completed');
    expect(events.map((e) => e.type)).toEqual(['tool_executing', 'tool_completed']);
    // No structuredContent: the content is the output.
    expect(await call('remote__plain', {})).toMatchObject({
      output: { content: [{ type: 'text', text: 'just text' }] },
    });
    // isError: a failed call with the server's text.
    expect(await call('remote__fail', {})).toMatchObject({
      status: 'error',
      error: { code: 'TOOL_FAILED', message: 'the fail tool failed on purpose' },
    });
  });

  it("refuses input that breaks the tool's JSON Schema ($ref into $defs, 2020-12) before it reaches the server", async () => {
    const mcp = await server();
    const { call } = await toolrun(mcp.port);
    // The server itself would accept a one-letter name: only Toolrun's ajv check refuses it.
    const refused = await call('remote__refs', { item: { name: 'x' } });
    expect(refused).toMatchObject({ status: 'error', error: { code: 'INVALID_INPUT' } });
    expect(refused.status === 'success' ? '' : refused.error.message).toContain(
      'item.name: must NOT have fewer than 2 characters',
    );
    expect(await call('remote__refs', { item: { name: 'xy' } })).toMatchObject({ output: { got: 'xy' } });
  });

  it('times a slow tool out with its configured timeout and cancels it on the server', async () => {
    const mcp = await server();
    const { call } = await toolrun(mcp.port, { slow: { timeoutMs: 300 } });
    const result = await call('remote__slow', { ms: 20_000 });
    expect(result).toMatchObject({ status: 'timeout', error: { code: 'TOOL_TIMEOUT' } });
    await waitFor('the server to see notifications/cancelled', async () => (await stats(call))?.cancelled === 1);
  });

  it("cancels a call mid-flight: the run's signal reaches the server as notifications/cancelled", async () => {
    const mcp = await server();
    const { call } = await toolrun(mcp.port);
    const controller = new AbortController();
    const pending = call('remote__slow', { ms: 20_000 }, controller.signal);
    await waitFor('the slow call to reach the server', async () => (await stats(call))?.calls === 1);
    controller.abort(new Error('the user cancelled'));
    expect(await pending).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    await waitFor('the server to see notifications/cancelled', async () => (await stats(call))?.cancelled === 1);
  });

  it('refuses at start two tools that would get the same name, listing both', async () => {
    const mcp = await server({ collide: true });
    const error = await startMcpToolSources(configFor(mcp.port)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpConfigError);
    expect((error as McpConfigError).problems).toEqual([
      'source "remote": tools "notes.read" and "notes_read" would both be named "remote__notes_read"',
    ]);
  });

  it('answers TOOL_UNAVAILABLE while the server is dead, and recovers once it is back', async () => {
    const first = await server();
    const { sources, call } = await toolrun(first.port);
    await first.kill();
    expect(await call('remote__echo', { text: 'a' })).toMatchObject({
      status: 'error',
      error: { code: 'TOOL_UNAVAILABLE' },
    });
    expect(sources.health()[0]).toMatchObject({ name: 'remote', state: 'down', tools: 7, connects: 1 });
    const second = await server({ port: first.port });
    await waitFor('the source to reconnect', () => sources.health()[0]?.state === 'ready');
    expect(sources.health()[0]).toMatchObject({ state: 'ready', connects: 2 });
    expect(await call('remote__echo', { text: 'b' })).toMatchObject({ status: 'success', output: { pid: second.pid } });
  });

  it('re-initialises an expired session (404) with a new client and the call still succeeds', async () => {
    const first = await server();
    const { sources, call } = await toolrun(first.port);
    // Restarted between two calls, unnoticed (no ping): the next call meets a server that forgot the session.
    await first.kill();
    const second = await server({ port: first.port });
    expect(await call('remote__echo', { text: 'c' })).toMatchObject({ status: 'success', output: { pid: second.pid } });
    expect(sources.health()[0]).toMatchObject({ state: 'ready', connects: 2 });
  });

  it('joins a server that was down at start, and follows notifications/tools/list_changed', async () => {
    const port = await freePort();
    const { sources, factory, call } = await toolrun(port);
    expect(sources.health()[0]).toMatchObject({ state: 'down', tools: 0 });
    expect(factory.tools.list()).toEqual([]);
    await server({ port });
    await waitFor('the tools to join the registry', () => factory.tools.list().length === 7, 20_000);
    expect(await call('remote__add_tool', {})).toMatchObject({ status: 'success' });
    await waitFor('the new tool to join', () => factory.tools.get('remote__late') !== undefined);
    expect(await call('remote__late', {})).toMatchObject({ status: 'success', output: { late: true } });
  });
});
