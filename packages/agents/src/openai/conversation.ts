import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';

/**
 * One message of a conversation handed to the OpenAI agent (`input.messages`): the shape the AG-UI
 * endpoint builds from `RunAgentInput.messages`, neutral of any protocol. Tool calls carry their
 * arguments as JSON text, as the model wrote them.
 */
export const conversationMessage = z
  .object({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string().max(64_000),
    toolCalls: z
      .array(z.object({ id: z.string().min(1).max(200), name: z.string().min(1).max(128), arguments: z.string() }))
      .max(64)
      .optional(),
    toolCallId: z.string().min(1).max(200).optional(),
  })
  .strict();
export type ConversationMessage = z.output<typeof conversationMessage>;

/**
 * A tool the client runs itself (an AG-UI frontend tool), offered to the model next to Toolrun's
 * tools (`input.clientTools`). Names follow what function calling accepts.
 */
export const clientToolSpec = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"'),
    description: z.string().max(4_000),
    parameters: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/**
 * The conversation as Chat Completions messages: tool messages answer the calls of the assistant
 * message before them, so consecutive assistant messages (one per tool call, as AG-UI clients keep
 * them) are merged into one.
 */
export function toChatMessages(messages: readonly ConversationMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'user':
        out.push({ role: message.role, content: message.content });
        break;
      case 'tool':
        out.push({ role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content });
        break;
      case 'assistant': {
        const calls = (message.toolCalls ?? []).map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: call.arguments },
        }));
        const previous = out.at(-1);
        if (calls.length > 0 && previous?.role === 'assistant' && previous.tool_calls !== undefined) {
          previous.tool_calls.push(...calls);
          break;
        }
        out.push({
          role: 'assistant',
          content: message.content.length > 0 ? message.content : null,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        });
        break;
      }
      default: {
        const unexpected: never = message.role;
        throw new Error(`unexpected role ${String(unexpected)}`);
      }
    }
  }
  return out;
}
