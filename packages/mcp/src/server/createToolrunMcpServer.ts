import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Principal, ToolrunServices } from '@toolrun/api';
import { callMcpTool } from './callMcpTool.ts';
import { findMcpTool, listMcpTools } from './listMcpTools.ts';
import { principalOf } from './principalAuth.ts';

/** The name and version Toolrun gives itself in MCP's `initialize`. */
export const MCP_SERVER_INFO = { name: 'toolrun', version: '0.1.0' } as const;

/**
 * The MCP server of ONE session, bound to the user who opened it: the SDK's low-level `Server`
 * (Toolrun's tools are described by JSON Schema, which `McpServer.registerTool` does not take) with
 * `tools/list` and `tools/call`. Every request carries its own verified principal (the HTTP handler
 * authenticates each one); a request whose principal is not the session's user is refused here too,
 * as a second line behind the HTTP handler.
 */
export function createToolrunMcpServer(services: ToolrunServices, userId: string): Server {
  const server = new Server(MCP_SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    instructions:
      'Toolrun runs tools and agents for you. Every call is a run of your own, stored with its events ' +
      '(see runs.get with the run id in the result _meta "toolrun/runId").',
  });
  const caller = (authInfo: unknown): Principal => {
    const principal = principalOf(authInfo);
    if (principal === undefined || principal.userId !== userId) {
      // Unreachable through the HTTP handler, which refuses such a request before the SDK sees it.
      throw new Error('this session belongs to another user');
    }
    return principal;
  };

  server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => {
    const principal = caller(extra.authInfo);
    return {
      tools: listMcpTools(services, principal).map(({ name, description, inputSchema }) => ({
        name,
        description,
        inputSchema,
      })),
    };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const principal = caller(extra.authInfo);
    const { name, arguments: args } = request.params;
    const target = findMcpTool(services, principal, name);
    if (target === undefined) {
      const message = `no tool named ${JSON.stringify(name.slice(0, 128))}`;
      return { isError: true, content: [{ type: 'text', text: `UNKNOWN_TOOL: ${message}` }] };
    }
    const token = extra._meta?.progressToken;
    return callMcpTool({
      services,
      principal,
      target,
      args,
      signal: extra.signal,
      progress: token === undefined ? undefined : { token, send: (n) => extra.sendNotification(n) },
    });
  });
  return server;
}
