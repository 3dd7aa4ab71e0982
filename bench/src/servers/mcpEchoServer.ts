import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

/**
 * The MCP server of the `mcp` benchmark, a process of its own over stdio: one `echo` tool that
 * answers with its input as structured content and text. Both variants (Toolrun, the bare SDK
 * client) call a process of this same program.
 */
const server = new McpServer({ name: 'bench-echo', version: '1.0.0' });
server.registerTool(
  'echo',
  { description: 'Echoes its input', inputSchema: { text: z.string(), n: z.number().int() } },
  ({ text, n }) => ({ content: [{ type: 'text', text }], structuredContent: { text, n } }),
);
await server.connect(new StdioServerTransport());
