import type { AnyTool, JsonValue, ToolAccess } from '@toolrun/dispatcher';
import { z } from 'zod';

/**
 * What the OpenAI agent tells the model about one tool. The dispatcher's `ToolInfo`
 * (`factory.tools.list()`) has this shape, and so does {@link toolSpecsOf}'s output.
 */
export interface OpenAIToolSpec {
  readonly name: string;
  readonly description: string;
  /** The input's JSON Schema (input side, so fields with defaults are optional). */
  readonly inputSchema: JsonValue;
  /** `admin` tools are offered to admins only; `user` when absent. */
  readonly access?: ToolAccess;
}

/**
 * Tool specs for {@link createOpenAIAgent}'s `tools`, straight from tool definitions: the same JSON
 * Schema the dispatcher's registry lists (`z.toJSONSchema`, input side). Use it when the agent has to
 * exist before the factory (the factory takes the agents as input).
 *
 * @example
 * const tools = createBuiltinTools(ports);
 * const agent = createOpenAIAgent({ baseURL, apiKey, model, tools: toolSpecsOf(tools) });
 */
export function toolSpecsOf(tools: readonly AnyTool[]): OpenAIToolSpec[] {
  return tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    access: tool.access,
    inputSchema: z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as JsonValue,
  }));
}
