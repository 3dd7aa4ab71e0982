import type { Message, RunAgentInput } from '@ag-ui/core';
import { contentToText } from '@ag-ui/core';
import type { AgentInfo, JsonValue } from '@toolrun/dispatcher';

/**
 * The input of a Toolrun agent for an AG-UI run:
 * - `forwardedProps.input`, when given, as is;
 * - otherwise, the text of the last `user` message in the agent's main text field (the first
 *   `string` property of its input's JSON Schema; nothing when it has none, so its defaults apply);
 * - for an agent whose schema has a `messages` property (the `openai` agent), the whole conversation
 *   (`system`/`developer`, `user`, `assistant` with its tool calls, `tool`; reasoning and activity
 *   messages are the client's display, not conversation);
 * - for one with a `clientTools` property, the request's `tools` (AG-UI frontend tools).
 */
export function agentInputFor(agent: AgentInfo | undefined, input: RunAgentInput): JsonValue {
  const forwarded: unknown = input.forwardedProps;
  if (isObject(forwarded) && forwarded.input !== undefined) return forwarded.input as JsonValue;
  const properties = propertiesOf(agent?.inputSchema);
  const out: Record<string, JsonValue> = {};
  const textField = Object.entries(properties).find(([, schema]) => isObject(schema) && schema.type === 'string')?.[0];
  const lastUser = input.messages.findLast((message) => message.role === 'user');
  if (textField !== undefined && lastUser !== undefined) out[textField] = contentToText(lastUser.content);
  if ('messages' in properties) {
    const conversation = input.messages.flatMap(toConversation);
    if (conversation.length > 0) out.messages = conversation;
  }
  if ('clientTools' in properties && input.tools.length > 0) {
    out.clientTools = input.tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      ...(isObject(tool.parameters) ? { parameters: tool.parameters as JsonValue } : {}),
    }));
  }
  return out;
}

function toConversation(message: Message): JsonValue[] {
  switch (message.role) {
    case 'system':
    case 'developer':
      return [{ role: 'system', content: message.content }];
    case 'user':
      return [{ role: 'user', content: contentToText(message.content) }];
    case 'assistant': {
      const toolCalls = (message.toolCalls ?? []).map((call) => ({
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      }));
      return [
        {
          role: 'assistant',
          content: typeof message.content === 'string' ? message.content : contentToText(message.content),
          ...(toolCalls.length > 0 ? { toolCalls } : {}),
        },
      ];
    }
    case 'tool':
      return [{ role: 'tool', content: contentToText(message.content), toolCallId: message.toolCallId }];
    case 'reasoning':
    case 'activity':
      return [];
    default: {
      const unexpected: never = message;
      throw new Error(`unexpected message ${JSON.stringify(unexpected)}`);
    }
  }
}

function propertiesOf(schema: JsonValue | undefined): Record<string, JsonValue> {
  if (!isObject(schema)) return {};
  const properties = schema.properties;
  return isObject(properties) ? (properties as Record<string, JsonValue>) : {};
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
