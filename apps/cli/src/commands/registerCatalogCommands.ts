import type { Command } from 'commander';
import type { CliContext } from '../CliContext.ts';
import { EXIT, type ExitCode } from '../exitCodes.ts';
import type { Action } from './Action.ts';

/** What `agents` and `tools` list: a name, a description, an input JSON Schema, and for tools their access. */
interface CatalogEntry {
  name: string;
  description: string;
  access: string;
  inputSchema: unknown;
}

/** `toolrun agents`, `toolrun tools [--schema]`. */
export function registerCatalogCommands(program: Command, action: Action): void {
  program
    .command('agents')
    .description('The agents you may start, with their inputs')
    .option('--schema', 'print each input JSON Schema in full')
    .action(
      action(async (ctx, opts: { schema?: boolean }) =>
        printCatalog(ctx, await (await ctx.client()).agents.list.query(), opts.schema === true),
      ),
    );

  program
    .command('tools')
    .description('The tools you may use, with their access')
    .option('--schema', 'print each input JSON Schema in full')
    .action(
      action(async (ctx, opts: { schema?: boolean }) =>
        printCatalog(ctx, await (await ctx.client()).tools.list.query(), opts.schema === true),
      ),
    );
}

/** One JSON object per entry with `--json`; otherwise name, access, description and the input's fields or schema. */
function printCatalog(ctx: CliContext, entries: readonly CatalogEntry[], schema: boolean): ExitCode {
  const { output } = ctx;
  for (const entry of entries) {
    output.record(entry);
    output.line(`${output.color.bold(entry.name)}  ${output.color.dim(`[${entry.access}]`)}  ${entry.description}`);
    if (schema) output.line(indent(JSON.stringify(entry.inputSchema, null, 2)));
    else output.line(`  ${output.color.dim(`input: ${fieldsOf(entry.inputSchema)}`)}`);
  }
  return EXIT.ok;
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
