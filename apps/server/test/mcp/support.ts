import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** The official SDK client over Streamable HTTP, signed in with `token` (or with none). */
export async function connectMcp(
  baseUrl: string,
  token: string | undefined,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport; close: () => Promise<void> }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } },
    // A test's server goes away at its end: no reconnecting to it.
    reconnectionOptions: {
      maxReconnectionDelay: 100,
      initialReconnectionDelay: 50,
      reconnectionDelayGrowFactor: 1,
      maxRetries: 0,
    },
  });
  const client = new Client({ name: 'toolrun-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    transport,
    close: async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

/** A raw JSON-RPC POST to `/mcp`, for what the SDK client would never send. */
export async function rawMcp(
  baseUrl: string,
  opts: { token?: string; sessionId?: string; body?: string; method?: string; headers?: Record<string, string> },
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${baseUrl}/mcp`, {
    method: opts.method ?? 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` }),
      ...(opts.sessionId === undefined
        ? {}
        : { 'mcp-session-id': opts.sessionId, 'mcp-protocol-version': '2025-11-25' }),
      ...opts.headers,
    },
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** A JSON-RPC request body. */
export function rpc(method: string, params: Record<string, unknown> = {}, id = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params });
}

/** An initialize request body, as an SDK client sends it. */
export function initializeBody(): string {
  return rpc('initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'raw', version: '1.0.0' },
  });
}
