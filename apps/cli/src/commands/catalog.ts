import type { Command } from 'commander';
import { EXIT } from '../exitCodes.ts';
import type { Action } from './Action.ts';

/** `toolrun agents`, `toolrun tools [--schema]`. */
export function registerCatalogCommands(program: Command, action: Action): void {
  program
    .command('agents')
    .description('The agents you may start, with their inputs')
    .option('--schema', 'print each input JSON Schema in full')
    .action(
      action(async (ctx, opts: { schema?: boolean }) => {
        const { output } = ctx;
        const agents = await (await ctx.client()).agents.list.query();
        for (const agent of agents) {
          output.record(agent);
          output.line(`${output.color.bold(agent.name)}  ${agent.description}`);
          if (opts.schema === true) output.line(indent(JSON.stringify(agent.inputSchema, null, 2)));
          else output.line(`  ${output.color.dim(`input: ${fieldsOf(agent.inputSchema)}`)}`);
        }
        return EXIT.ok;
      }),
    );

  program
    .command('tools')
    .description('The tools you may use, with their access and timeout')
    .option('--schema', 'print each input JSON Schema in full')
    .action(
      action(async (ctx, opts: { schema?: boolean }) => {
        const { output } = ctx;
        const tools = await (await ctx.client()).tools.list.query();
        for (const tool of tools) {
          output.record(tool);
          output.line(`${output.color.bold(tool.name)}  ${output.color.dim(`[${tool.access}]`)}  ${tool.description}`);
          if (opts.schema === true) output.line(indent(JSON.stringify(tool.inputSchema, null, 2)));
          else output.line(`  ${output.color.dim(`input: ${fieldsOf(tool.inputSchema)}`)}`);
        }
        return EXIT.ok;
      }),
    );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** `question?: string, maxSources?: integer` from an object JSON Schema: enough to type a `key=value`. */
function fieldsOf(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return '(any JSON)';
  const { properties, required } = schema as { properties?: Record<string, { type?: unknown }>; required?: unknown };
  if (properties === undefined) return '(any JSON)';
  const needed = new Set(Array.isArray(required) ? required : []);
  const fields = Object.entries(properties).map(
    ([name, field]) =>
      `${name}${needed.has(name) ? '' : '?'}: ${typeof field.type === 'string' ? field.type : Array.isArray(field.type) ? field.type.join('|') : 'JSON'}`,
  );
  return fields.length > 0 ? fields.join(', ') : '{}';
}
