/**
 * `@toolrun/mcp`: Toolrun and the Model Context Protocol, both ways. MCP servers as tool sources
 * (`sources/`) and Toolrun's own tools and agents served over MCP (`server/`).
 */
export type { McpCallOptions } from './server/callMcpTool.ts';
export { callMcpTool, RUN_ID_META } from './server/callMcpTool.ts';
export type { McpHandler, McpHandlerOptions } from './server/createMcpHandler.ts';
export {
  createMcpHandler,
  DEFAULT_MCP_SESSION_IDLE_MS,
  DEFAULT_MCP_SESSIONS_PER_USER,
  MCP_PATH,
} from './server/createMcpHandler.ts';
export { createToolrunMcpServer, MCP_SERVER_INFO } from './server/createToolrunMcpServer.ts';
export type { McpToolDescription, McpToolTarget } from './server/listMcpTools.ts';
export { AGENT_TOOL_PREFIX, findMcpTool, listMcpTools } from './server/listMcpTools.ts';
