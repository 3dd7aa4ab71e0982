/**
 * `@toolrun/mcp`: Toolrun and the Model Context Protocol, both ways. MCP servers as tool sources
 * (`sources/`) and Toolrun's own tools and agents served over MCP (`server/`).
 */

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
