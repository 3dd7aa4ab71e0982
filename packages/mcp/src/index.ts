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

// MCP servers as tool sources.
export type {
  HttpSourceConfig,
  McpConfig,
  McpConfigContext,
  SourceConfig,
  StdioSourceConfig,
} from './sources/config/loadMcpConfig.ts';
export { loadMcpConfig, parseMcpConfig } from './sources/config/loadMcpConfig.ts';
export { McpConfigError } from './sources/config/McpConfigError.ts';
export type { McpToolSources, SourcesLogger } from './sources/McpToolSources.ts';
export { startMcpToolSources } from './sources/McpToolSources.ts';
export { encodeUserId } from './sources/pool/substituteUserId.ts';
export type { SourceHealth, SourceState } from './sources/sourceHealth.ts';
