/**
 * `@toolrun/mcp`: Toolrun and the Model Context Protocol, both ways. MCP servers as tool sources
 * (`sources/`) and Toolrun's own tools and agents served over MCP (`server/`).
 */
export {};
