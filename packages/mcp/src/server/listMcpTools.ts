import type { Principal, ToolrunServices } from '@toolrun/api';
import type { JsonValue } from '@toolrun/dispatcher';

/** The prefix of an agent served as an MCP tool: `agent__research`. */
export const AGENT_TOOL_PREFIX = 'agent__';

/** One entry of `tools/list`, as MCP describes a tool. */
export interface McpToolDescription {
  readonly name: string;
  readonly description: string;
  /** Always `type: "object"`: a client refuses the whole list otherwise. */
  readonly inputSchema: { type: 'object'; [key: string]: unknown };
  /** Where the MCP tool comes from: a tool (`tool`) or an agent run (`agent`), with its Toolrun name. */
  readonly target: McpToolTarget;
}

/** What a `tools/call` of an MCP tool name runs. */
export interface McpToolTarget {
  readonly kind: 'tool' | 'agent';
  readonly name: string;
  /** The Toolrun input is `arguments.input`: its schema was not an object and was wrapped. */
  readonly wrapped: boolean;
}

/**
 * The MCP tools `principal` may use: every tool of the registry that `tools.list` shows them (built-in
 * and source tools alike, admin tools for admins only), then every agent they may start as
 * `agent__<name>`. A schema whose type is not `"object"` is wrapped as `{ input: <schema> }`, since
 * MCP clients refuse any other tool input. Read from the immutable registries on every call, so the
 * list always matches what `tools/call` accepts.
 */
export function listMcpTools(services: ToolrunServices, principal: Principal): McpToolDescription[] {
  const { factory } = services;
  const out: McpToolDescription[] = [];
  for (const tool of factory.tools.listFor(principal.roles)) {
    out.push(describe(tool.name, tool.description, tool.inputSchema, 'tool', tool.name));
  }
  for (const agent of factory.agents.listFor(principal.roles)) {
    const description = `Runs the agent "${agent.name}" as a run of yours and returns its result. ${agent.description}`;
    out.push(describe(`${AGENT_TOOL_PREFIX}${agent.name}`, description, agent.inputSchema, 'agent', agent.name));
  }
  return out;
}

/**
 * What an MCP tool name stands for, for `principal`; undefined when they may not use it or it does
 * not exist (the two look the same to the caller).
 */
export function findMcpTool(services: ToolrunServices, principal: Principal, name: string): McpToolTarget | undefined {
  const { factory } = services;
  if (name.startsWith(AGENT_TOOL_PREFIX)) {
    const agentName = name.slice(AGENT_TOOL_PREFIX.length);
    const agent = factory.agents.listFor(principal.roles).find((a) => a.name === agentName);
    return agent === undefined
      ? undefined
      : { kind: 'agent', name: agentName, wrapped: !isObjectSchema(agent.inputSchema) };
  }
  // listFor leaves out what the caller may not use: an admin tool is unknown to a user.
  const tool = factory.tools.listFor(principal.roles).find((t) => t.name === name);
  return tool === undefined ? undefined : { kind: 'tool', name, wrapped: !isObjectSchema(tool.inputSchema) };
}

function describe(
  name: string,
  description: string,
  schema: JsonValue,
  kind: McpToolTarget['kind'],
  target: string,
): McpToolDescription {
  const wrapped = !isObjectSchema(schema);
  const inputSchema = isObjectSchema(schema)
    ? schema
    : { type: 'object' as const, properties: { input: schema }, required: ['input'] };
  return { name, description, inputSchema, target: { kind, name: target, wrapped } };
}

function isObjectSchema(schema: JsonValue): schema is { type: 'object'; [key: string]: JsonValue } {
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema) && schema.type === 'object';
}
