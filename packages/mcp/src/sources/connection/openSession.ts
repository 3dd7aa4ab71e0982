import { mkdir } from 'node:fs/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type Tool, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { fetchWithTraceHeaders } from './fetchWithTraceHeaders.ts';

/** Where one session goes: a URL with headers, or a process (its `{userId}` already substituted). */
export type SessionTarget =
  | { readonly transport: 'http'; readonly url: string; readonly headers: Readonly<Record<string, string>> }
  | {
      readonly transport: 'stdio';
      readonly command: string;
      readonly args: readonly string[];
      readonly env: Readonly<Record<string, string>>;
      readonly cwd: string | undefined;
    };

/** One initialised MCP session (one client, one transport, maybe one process) and its tools. */
export interface McpSession {
  readonly client: Client;
  /** Every tool the server listed, all pages. */
  readonly tools: Tool[];
  /** The process's id for a stdio session. */
  readonly pid: number | undefined;
  /** The last lines the process wrote to stderr, for error messages. */
  stderrTail(): string;
  close(): Promise<void>;
}

// A server that keeps answering with a cursor is broken, not large.
const MAX_PAGES = 100;
const STDERR_TAIL = 2_048;

/**
 * Connects a new SDK `Client` (a new one every time: after an expired session the old client keeps
 * the stale session id), lists every page of tools and wires `onClosed` (the process exited, the
 * transport closed) and `onToolsChanged` (`notifications/tools/list_changed`). Gives up after
 * `timeoutMs` or when `signal` aborts, leaving nothing running.
 */
export async function openSession(
  target: SessionTarget,
  opts: { timeoutMs: number; signal?: AbortSignal; onClosed: () => void; onToolsChanged?: () => void },
): Promise<McpSession> {
  let stderr = '';
  let transport: Transport;
  let pid = (): number | undefined => undefined;
  if (target.transport === 'http') {
    transport = new StreamableHTTPClientTransport(new URL(target.url), {
      requestInit: { headers: { ...target.headers } },
      // A traced call's `traceparent` also goes out as an HTTP header.
      fetch: fetchWithTraceHeaders,
    });
  } else {
    if (target.cwd !== undefined) await mkdir(target.cwd, { recursive: true, mode: 0o700 });
    const stdio = new StdioClientTransport({
      command: target.command,
      args: [...target.args],
      env: { ...target.env },
      ...(target.cwd === undefined ? {} : { cwd: target.cwd }),
      // Read (a full pipe would block the server), keeping the tail for error messages.
      stderr: 'pipe',
    });
    stdio.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    pid = () => stdio.pid ?? undefined;
    transport = stdio;
  }
  const client = new Client({ name: 'toolrun', version: '0.1.0' }, { capabilities: {} });
  let closed = false;
  client.onclose = () => {
    if (closed) return;
    closed = true;
    opts.onClosed();
  };
  // Errors of the transport's background streams; a call's own failure reaches the call.
  client.onerror = () => {};
  if (opts.onToolsChanged) client.setNotificationHandler(ToolListChangedNotificationSchema, opts.onToolsChanged);
  const requestOptions = { timeout: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) };
  const close = async () => {
    closed = true;
    await client.close().catch(() => {});
  };
  try {
    await client.connect(transport, requestOptions);
    const tools = await listAllTools(client, requestOptions);
    return { client, tools, pid: pid(), stderrTail: () => stderr.trim(), close };
  } catch (error) {
    await close();
    const tail = stderr.trim();
    if (tail !== '' && error instanceof Error) error.message = `${error.message} (stderr: ${tail.slice(-300)})`;
    throw error;
  }
}

/** `tools/list`, following `nextCursor` to the last page. */
export async function listAllTools(
  client: Client,
  options: { timeout: number; signal?: AbortSignal },
): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const result = await client.listTools(cursor === undefined ? {} : { cursor }, options);
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (cursor === undefined) return tools;
  }
  throw new Error(`the server sent more than ${MAX_PAGES} pages of tools`);
}
