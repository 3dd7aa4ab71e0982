import type { Role } from './context.ts';
import type { AnyTool, ToolAccess } from './defineTool.ts';
import type { JsonValue } from './events.ts';
import { refuseDuplicate, validateDefinition } from './validateDefinition.ts';

/** What clients see of a tool. */
export interface ToolInfo {
  readonly name: string;
  readonly description: string;
  readonly access: ToolAccess;
  /** The effective per-call timeout: the tool's own or the factory's default. */
  readonly timeoutMs: number;
  /** How long the tool may go without a heartbeat, when it promises them. */
  readonly heartbeatTimeoutMs?: number;
  /** The input's JSON Schema (`z.toJSONSchema`, input side). */
  readonly inputSchema: JsonValue;
  /** The tool's source (an MCP server's name in the configuration), when it has one. */
  readonly source?: string;
}

/** The immutable set of tools a factory dispatches to. */
export interface ToolRegistry {
  /** Every tool, in definition order. */
  list(): ToolInfo[];
  /** Tools that principals holding `roles` may call. */
  listFor(roles: readonly Role[]): ToolInfo[];
  get(name: string): AnyTool | undefined;
}

/** What the scope needs per call, computed once when the registry is built. */
export interface ToolEntry {
  readonly tool: AnyTool;
  readonly info: ToolInfo;
  readonly timeoutMs: number;
  /** The tool's heartbeat timeout, when it promises heartbeats. */
  readonly heartbeatTimeoutMs: number | undefined;
  /** Lower-cased `sensitive` keys, or undefined when there are none. */
  readonly sensitive: ReadonlySet<string> | undefined;
}

/** The registry plus the per-call entries the factory uses. Not exported from the package. */
export interface InternalToolRegistry extends ToolRegistry {
  entry(name: string): ToolEntry | undefined;
}

/**
 * Builds the immutable tool registry once: every definition is validated (`INVALID_REGISTRY` for a
 * malformed one or a duplicate name) and its JSON Schema computed, so that creating a scope costs
 * the same whatever the number of tools.
 */
export function createToolRegistry(
  tools: readonly AnyTool[],
  opts: { defaultTimeoutMs: number },
): InternalToolRegistry {
  const entries = new Map<string, ToolEntry>();
  for (const tool of tools) {
    const { inputSchema } = validateDefinition('tool', tool, { accessRequired: true });
    if (entries.has(tool.name)) refuseDuplicate('tool', tool.name);
    const timeoutMs = tool.timeoutMs ?? opts.defaultTimeoutMs;
    const info: ToolInfo = Object.freeze({
      name: tool.name,
      description: tool.description,
      access: tool.access,
      timeoutMs,
      ...(tool.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs: tool.heartbeatTimeoutMs }),
      inputSchema,
      ...(tool.source === undefined ? {} : { source: tool.source }),
    });
    const sensitive = tool.sensitive?.length ? new Set(tool.sensitive.map((k) => k.toLowerCase())) : undefined;
    entries.set(
      tool.name,
      Object.freeze({ tool, info, timeoutMs, heartbeatTimeoutMs: tool.heartbeatTimeoutMs, sensitive }),
    );
  }
  const infos = Object.freeze([...entries.values()].map((e) => e.info));
  const userInfos = Object.freeze(infos.filter((i) => i.access === 'user'));
  return Object.freeze({
    list: () => [...infos],
    listFor: (roles: readonly Role[]) => (roles.includes('admin') ? [...infos] : [...userInfos]),
    get: (name: string) => entries.get(name)?.tool,
    entry: (name: string) => entries.get(name),
  });
}
