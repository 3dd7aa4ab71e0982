/** What OpenAI-compatible function calling accepts as a name. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * `<source>__<tool>`, with every character of the MCP tool's name outside `[A-Za-z0-9_-]` made `_`
 * (MCP allows `.` and `/`, function calling does not). Returns a problem when the result is too long;
 * two tools of one server that end up with the same name are a collision the caller reports.
 */
export function namespacedName(source: string, tool: string): { name: string } | { problem: string } {
  const name = `${source}__${tool.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  if (!TOOL_NAME_PATTERN.test(name)) {
    return { problem: `tool "${tool.slice(0, 80)}" would be named "${name.slice(0, 80)}", over 64 characters` };
  }
  return { name };
}
