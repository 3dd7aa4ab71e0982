import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const base = process.env.TOOLRUN_URL ?? 'http://127.0.0.1:3000';

// 1. A token of the API: here from the development identity provider (any valid Toolrun token works).
const login = await fetch(`${base}/trpc/auth.login`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ userId: 'alice' }),
});
const { token } = ((await login.json()) as { result: { data: { token: string } } }).result.data;

// 2. The official MCP client over Streamable HTTP, with the token on every request.
const client = new Client({ name: 'my-agent', version: '1.0.0' });
const headers = { Authorization: `Bearer ${token}` };
await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } }));

// 3. alice's tools, then each agent as agent__<name>.
const { tools } = await client.listTools();
console.log(tools.map((tool) => tool.name).join(', '));

// 4. Each call is a run of alice's, stored with its events; the result names it.
const sum = await client.callTool({ name: 'calculator', arguments: { expression: '(2+3)*4' } });
console.log(JSON.stringify(sum.structuredContent), 'run', sum._meta?.['toolrun/runId']);

// 5. An agent: its thoughts arrive as progress notifications, then its result.
const answer = await client.callTool(
  { name: 'agent__research', arguments: { question: 'How does cancellation work?' } },
  undefined,
  { onprogress: ({ progress, message }) => console.log(`step ${progress}: ${message}`) },
);
console.log(answer.isError === true ? 'the agent failed' : 'the agent answered');
await client.close();
