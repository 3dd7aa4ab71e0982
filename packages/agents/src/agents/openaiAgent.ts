import {
  type AnyAgent,
  DispatchError,
  defineAgent,
  isAdmin,
  type JsonValue,
  type ToolResult,
} from '@toolrun/dispatcher';
import OpenAI from 'openai';
import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { clientToolSpec, conversationMessage, toChatMessages } from '../openai/conversation.ts';
import { streamTurn } from '../openai/streamTurn.ts';
import { modelFailure } from '../openai/toModelFailure.ts';
import type { OpenAIToolSpec } from '../openai/toolSpecsOf.ts';

/** How {@link createOpenAIAgent} is configured. The server fills it from `TOOLRUN_OPENAI_*`. */
export interface OpenAIAgentConfig {
  /** An OpenAI-compatible API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  apiKey: string;
  model: string;
  /** Model turns per run; a run that needs more fails with `step_limit`. Default 8. */
  maxSteps?: number;
  /** Per model turn, from the request to the last streamed chunk. Default 60 000. */
  timeoutMs?: number;
  /** The agent's name in the registry. Default `openai`. */
  name?: string;
  description?: string;
  /** The tools the model may call (see `toolSpecsOf`, or the factory's `ToolInfo`s). Default none. */
  tools?: readonly OpenAIToolSpec[];
  /** A system message put before the user's prompt. */
  systemPrompt?: string;
  /** Retries of the client for 408/409/429/5xx and connection errors. Default 0: fail fast, clearly. */
  maxRetries?: number;
}

const configSchema = z.object({
  baseURL: z.url({ protocol: /^https?$/ }),
  apiKey: z.string().min(1),
  model: z.string().min(1).max(200),
  maxSteps: z.number().int().min(1).max(50).default(8),
  timeoutMs: z.number().int().min(1).max(600_000).default(60_000),
  name: z.string().default('openai'),
  description: z.string().min(1).optional(),
  tools: z
    .array(
      z.object({
        name: z.string(),
        description: z.string(),
        inputSchema: z.unknown(),
        access: z.enum(['user', 'admin']).optional(),
      }),
    )
    .default([]),
  systemPrompt: z.string().max(20_000).optional(),
  maxRetries: z.number().int().min(0).max(5).default(0),
});

/**
 * The OpenAI agent's input: a `prompt`, or a whole conversation (`messages`, e.g. from an AG-UI
 * client; the prompt is then not repeated), and optionally `clientTools`, tools the client runs
 * itself: when the model calls one, the call is handed off (`ctx.handOffTool`) and the run ends with
 * it in `pendingToolCalls`, for the client to answer in its next run on the thread.
 */
export const openAIAgentInput = z
  .object({
    prompt: z.string().trim().min(1).max(8_000).optional(),
    messages: z.array(conversationMessage).min(1).max(500).optional(),
    clientTools: z.array(clientToolSpec).max(64).optional(),
  })
  .strict()
  .refine((input) => input.prompt !== undefined || input.messages !== undefined, {
    message: 'give a prompt or messages',
  });

/** What goes back to the model for one tool call: the outcome as JSON, cut to a sane size. */
const MAX_TOOL_MESSAGE_CHARS = 16_000;

function toolMessage(result: ToolResult): string {
  const body =
    result.status === 'success'
      ? { status: result.status, output: result.output }
      : { status: result.status, error: result.error };
  const text = JSON.stringify(body);
  return text.length <= MAX_TOOL_MESSAGE_CHARS ? text : `${text.slice(0, MAX_TOOL_MESSAGE_CHARS)}… [truncated]`;
}

function functionTool(spec: OpenAIToolSpec): ChatCompletionFunctionTool {
  const schema =
    typeof spec.inputSchema === 'object' && spec.inputSchema !== null && !Array.isArray(spec.inputSchema)
      ? spec.inputSchema
      : {};
  const { $schema: _ignored, ...parameters } = schema;
  return { type: 'function', function: { name: spec.name, description: spec.description, parameters } };
}

/**
 * An agent driven by any OpenAI-compatible Chat Completions server, through the official `openai`
 * client (transport, SSE parsing, typed errors). Each turn streams: text deltas become
 * `agent_thinking` (coalesced into sentences), tool calls run through `ctx.callTool` (in parallel
 * when the model asks for several) and their results go back as `tool` messages, until the model
 * answers without tool calls or `maxSteps` turns have passed.
 *
 * HTTP 401/403/404/429/5xx, time-outs, unreachable servers, broken streams, malformed tool-call
 * arguments and the step limit end the run with `AGENT_FAILED` (`details.reason` names the cause);
 * a cancel aborts the request at once. Admin tools are offered only to admins. The package reads no
 * environment variables: pass everything here. Throws `INVALID_REGISTRY` for a bad config.
 *
 * @example
 * createOpenAIAgent({ baseURL: 'http://127.0.0.1:8000/v1', apiKey: 'sk-local', model: 'qwen2.5',
 *   tools: toolSpecsOf(createBuiltinTools(ports)) });
 */
export function createOpenAIAgent(config: OpenAIAgentConfig): AnyAgent {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'config'}: ${issue.message}`);
    throw new DispatchError('INVALID_REGISTRY', `openai agent config is invalid (${problems.join('; ')})`);
  }
  const settings = parsed.data;
  const tools = (config.tools ?? []).map((spec) => ({ access: spec.access ?? 'user', tool: functionTool(spec) }));
  const client = new OpenAI({
    baseURL: settings.baseURL,
    apiKey: settings.apiKey,
    maxRetries: settings.maxRetries,
    timeout: settings.timeoutMs,
    // Explicit values, so that the client does not fill them from OPENAI_* environment variables.
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    logLevel: 'off',
  });

  return defineAgent({
    name: settings.name,
    description: settings.description ?? `Answers with the ${settings.model} model, calling tools as it decides.`,
    input: openAIAgentInput,
    async run({ prompt, messages: conversation, clientTools = [] }, ctx) {
      const offered = tools
        .filter((entry) => entry.access === 'user' || isAdmin(ctx.context))
        .map((entry) => entry.tool);
      const clientNames = new Set(clientTools.map((tool) => tool.name));
      const clash = offered.find((tool) => clientNames.has(tool.function.name));
      if (clash !== undefined) {
        // Silently preferring one of two tools of the same name would run what neither side meant.
        throw modelFailure('client_tool', `client tool "${clash.function.name}" has the name of a Toolrun tool`);
      }
      offered.push(
        ...clientTools.map((tool) => functionTool({ ...tool, inputSchema: (tool.parameters ?? {}) as JsonValue })),
      );
      const messages: ChatCompletionMessageParam[] = [
        ...(settings.systemPrompt === undefined ? [] : [{ role: 'system' as const, content: settings.systemPrompt }]),
        ...(conversation === undefined
          ? [{ role: 'user' as const, content: prompt ?? '' }]
          : toChatMessages(conversation)),
      ];
      let toolCalls = 0;
      for (let step = 1; step <= settings.maxSteps; step += 1) {
        const turn = await streamTurn({
          client,
          model: settings.model,
          messages,
          tools: offered,
          signal: ctx.signal,
          timeoutMs: settings.timeoutMs,
          think: (text) => ctx.think(text),
          failure: { baseURL: settings.baseURL, apiKey: settings.apiKey },
        });
        if (turn.toolCalls.length === 0) {
          return { answer: turn.text, model: settings.model, steps: step, toolCalls, finishReason: turn.finishReason };
        }
        const calls = turn.toolCalls.map((call, index) => {
          if (call.name.length === 0) {
            throw modelFailure('malformed_arguments', `the model sent tool call ${index + 1} without a function name`);
          }
          let args: JsonValue;
          try {
            args = JSON.parse(call.arguments.trim() === '' ? '{}' : call.arguments) as JsonValue;
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            throw modelFailure(
              'malformed_arguments',
              `the model sent malformed arguments for tool "${call.name}" (not JSON: ${reason}): ${call.arguments.slice(0, 200)}`,
            );
          }
          return { ...call, id: call.id || `call_${step}_${index}`, args };
        });
        messages.push({
          role: 'assistant',
          content: turn.text.length > 0 ? turn.text : null,
          tool_calls: calls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        });
        const handedOff = calls.filter((call) => clientNames.has(call.name));
        const pendingToolCalls = handedOff.map((call) => {
          const result = ctx.handOffTool?.(call.name, call.args);
          return { callId: result?.callId ?? call.id, tool: call.name, input: call.args };
        });
        const results = await Promise.all(
          calls.map((call) => (clientNames.has(call.name) ? undefined : ctx.callTool(call.name, call.args))),
        );
        ctx.signal.throwIfAborted();
        toolCalls += calls.length;
        if (pendingToolCalls.length > 0) {
          // The client runs these: the conversation goes on in its next run, with their results.
          return { answer: turn.text, model: settings.model, steps: step, toolCalls, pendingToolCalls };
        }
        calls.forEach((call, index) => {
          const result = results[index];
          if (result !== undefined)
            messages.push({ role: 'tool', tool_call_id: call.id, content: toolMessage(result) });
        });
      }
      throw modelFailure(
        'step_limit',
        `the model did not give a final answer within ${settings.maxSteps} turns (maxSteps); it made ${toolCalls} tool calls`,
      );
    },
  });
}
