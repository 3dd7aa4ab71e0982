import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { type AnyTool, DispatchError, defineTool, type JsonValue } from '@toolrun/dispatcher';
import type { SourceConfig } from '../config/loadMcpConfig.ts';
import type { McpCall } from '../connection/callOnSession.ts';
import { ajvInput, createSchemaCompiler } from './compileInputSchema.ts';
import { namespacedName } from './namespacedName.ts';

/** How a source's tool reaches its server: the caller's user picks the process of a per-user source. */
export type CallMcpTool = (call: McpCall & { readonly userId: string }) => Promise<CallToolResult>;

/** A source's tools as registry definitions, or every reason they cannot be. */
export type ToolDefinitionsResult = { tools: AnyTool[] } | { problems: string[] };

const MAX_ERROR_TEXT = 2_000;

/**
 * Turns a server's listed tools into Toolrun tools named `<source>__<tool>`: input validated by ajv
 * against the tool's own JSON Schema (listed as is), access, timeout and sensitive keys from the
 * configuration, and a `run` that calls the server with the call's signal (a cancel or timeout sends
 * `notifications/cancelled`) and its trace context (`_meta.traceparent`) when runs are traced. A result with `isError` fails the call (`TOOL_FAILED`, the server's
 * text); otherwise the output is `structuredContent` when present, else `{ content }`.
 */
export function toToolDefinitions(
  source: SourceConfig,
  listed: readonly Tool[],
  call: CallMcpTool,
): ToolDefinitionsResult {
  const problems: string[] = [];
  const names = new Map<string, string>();
  const compiler = createSchemaCompiler();
  const tools: AnyTool[] = [];
  for (const tool of listed) {
    const named = namespacedName(source.name, tool.name);
    if ('problem' in named) {
      problems.push(`source "${source.name}": ${named.problem}`);
      continue;
    }
    const clash = names.get(named.name);
    if (clash !== undefined) {
      problems.push(`source "${source.name}": tools "${clash}" and "${tool.name}" would both be named "${named.name}"`);
      continue;
    }
    names.set(named.name, tool.name);
    let validate: ReturnType<typeof compiler.compile>;
    try {
      validate = compiler.compile(tool.inputSchema);
    } catch (error) {
      problems.push(
        `source "${source.name}": tool "${tool.name}" has an unusable input schema: ${(error as Error).message}`,
      );
      continue;
    }
    const settings = source.tools[tool.name] ?? {};
    const timeoutMs = settings.timeoutMs ?? source.timeoutMs;
    const mcpName = tool.name;
    tools.push(
      defineTool({
        name: named.name,
        description: (tool.description ?? tool.title ?? '').trim() || `${tool.name} (from MCP source ${source.name})`,
        input: ajvInput(validate),
        inputSchema: tool.inputSchema as JsonValue,
        source: source.name,
        access: settings.access ?? source.access,
        timeoutMs,
        ...(settings.sensitive === undefined ? {} : { sensitive: settings.sensitive }),
        async run(args, { context, signal, traceContext }) {
          const result = await call({
            userId: context.userId,
            tool: mcpName,
            args,
            signal,
            timeoutMs,
            trace: traceContext,
          });
          if (result.isError === true) throw new DispatchError('TOOL_FAILED', errorText(result, mcpName));
          return (result.structuredContent ?? { content: result.content }) as JsonValue;
        },
      }),
    );
  }
  for (const name of Object.keys(source.tools)) {
    if (!listed.some((tool) => tool.name === name)) {
      problems.push(`source "${source.name}": tools.${name} is configured but the server has no such tool`);
    }
  }
  return problems.length > 0 ? { problems } : { tools };
}

function errorText(result: CallToolResult, tool: string): string {
  const text = result.content
    .map((part) => (part.type === 'text' ? part.text : `[${part.type}]`))
    .join('\n')
    .trim();
  const message = text === '' ? `tool "${tool}" reported an error` : text;
  return message.length > MAX_ERROR_TEXT ? `${message.slice(0, MAX_ERROR_TEXT)}…` : message;
}
