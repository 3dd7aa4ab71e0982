// A Streamable HTTP MCP server written with the SDK's McpServer, run as its own process by the tests:
// `node mcpHttpServer.mjs <port> [--collide]`. Prints `listening <port>` when ready. Stateful
// sessions; tools/list answers in pages of three; `add_tool` registers a tool at run time (every
// session gets notifications/tools/list_changed); `slow` honours cancellation and counts it.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const port = Number(process.argv[2] ?? 0);
const collide = process.argv.includes('--collide');
const PAGE = 3;
const stats = { cancelled: 0, calls: 0 };
const extraTools = [];
const servers = new Set();

// A 2020-12 schema with $defs and $ref, listed instead of the one the SDK would derive.
const REF_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { item: { type: 'object', properties: { name: { type: 'string', minLength: 2 } }, required: ['name'] } },
  properties: { item: { $ref: '#/$defs/item' } },
  required: ['item'],
};

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      stats.cancelled += 1;
      reject(new Error('cancelled'));
    });
  });

const text = (value) => ({ content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value });

function defineTools(server) {
  server.registerTool('echo', { description: 'Echoes text', inputSchema: { text: z.string() } }, ({ text: t }) =>
    text({ text: t, pid: process.pid }),
  );
  server.registerTool(
    'slow',
    { description: 'Waits, honouring cancellation', inputSchema: { ms: z.number() } },
    async ({ ms }, extra) => {
      stats.calls += 1;
      await sleep(ms, extra.signal);
      return text({ waited: ms });
    },
  );
  server.registerTool('fail', { description: 'Reports an error', inputSchema: {} }, () => ({
    content: [{ type: 'text', text: 'the fail tool failed on purpose' }],
    isError: true,
  }));
  server.registerTool('stats', { description: 'Counters', inputSchema: {} }, () => text({ ...stats }));
  server.registerTool('plain', { description: 'Text only', inputSchema: {} }, () => ({
    content: [{ type: 'text', text: 'just text' }],
  }));
  server.registerTool(
    'refs',
    { description: 'Takes an item, described with $defs', inputSchema: { item: z.object({ name: z.string() }) } },
    ({ item }) => text({ got: item.name }),
  );
  server.registerTool('add_tool', { description: 'Registers the tool "late"', inputSchema: {} }, () => {
    extraTools.push('late');
    for (const s of servers) registerLate(s);
    return text({ added: 'late' });
  });
  if (collide) {
    server.registerTool('notes.read', { description: 'Reads notes', inputSchema: {} }, () => text({}));
    server.registerTool('notes_read', { description: 'Reads notes too', inputSchema: {} }, () => text({}));
  }
  for (const _name of extraTools) registerLate(server);
  // Pages of three, from the list the SDK would send.
  const listAll = server.server._requestHandlers.get('tools/list');
  server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const all = (await listAll({ method: 'tools/list', params: {} }, extra)).tools.map((tool) =>
      tool.name === 'refs' ? { ...tool, inputSchema: REF_SCHEMA } : tool,
    );
    const start = Number(request.params?.cursor ?? 0);
    const next = start + PAGE;
    return { tools: all.slice(start, next), ...(next < all.length ? { nextCursor: String(next) } : {}) };
  });
}

function registerLate(server) {
  if (server.late) return;
  server.late = server.registerTool('late', { description: 'Added at run time', inputSchema: {} }, () =>
    text({ late: true }),
  );
}

const transports = new Map();
const http = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
  const id = req.headers['mcp-session-id'];
  let transport = typeof id === 'string' ? transports.get(id) : undefined;
  if (transport === undefined) {
    if (typeof id === 'string') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${process.env.TEST_MCP_TOKEN ?? ''}`) {
      res.writeHead(401).end('missing or wrong token');
      return;
    }
    const server = new McpServer(
      { name: 'test-http', version: '1.0.0' },
      { capabilities: { tools: { listChanged: true } } },
    );
    defineTools(server);
    servers.add(server);
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => transports.set(sid, transport),
    });
    transport.onclose = () => servers.delete(server);
    await server.connect(transport);
  }
  await transport.handleRequest(req, res, body);
});
http.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${http.address().port}\n`);
});
