import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './CliError.ts';
import { EXIT } from './exitCodes.ts';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const usage = (message: string) => new CliError(message, EXIT.usage, 'USAGE');

function parseJson(text: string, where: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw usage(`${where} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `key=value`: the value as JSON when it parses (numbers, booleans, null, arrays, objects, "quoted"), else as text. */
function pairValue(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/**
 * A run's input from the command line: one JSON argument (`'{"question":"…"}'`), or `--input-file f`
 * (`-` reads stdin; a relative path is taken from the folder the command was typed in), or
 * `key=value` pairs (`a.b=1` nests), or nothing (`{}`: the agent's defaults). Mixing them, or JSON
 * that does not parse, is a usage error (exit 2) that says what is wrong.
 */
export function parseRunInput(opts: { args: string[]; inputFile: string | undefined; cwd: string }): Json {
  const { args, inputFile } = opts;
  if (inputFile !== undefined) {
    if (args.length > 0) throw usage('give the input either as arguments or with --input-file, not both');
    let text: string;
    try {
      text = inputFile === '-' ? readFileSync(0, 'utf8') : readFileSync(resolve(opts.cwd, inputFile), 'utf8');
    } catch (error) {
      throw usage(`cannot read --input-file ${inputFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    return parseJson(text, `--input-file ${inputFile}`);
  }
  if (args.length === 0) return {};
  const first = args[0]?.trimStart() ?? '';
  if (first.startsWith('{') || first.startsWith('[')) {
    if (args.length > 1) throw usage('give the input as one JSON argument or as key=value pairs, not both');
    return parseJson(first, 'the input');
  }
  const input: { [key: string]: Json } = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      throw usage(`${JSON.stringify(arg)} is neither JSON nor key=value (example: question="What is 2+2?")`);
    }
    const path = arg.slice(0, eq).split('.');
    if (path.some((part) => part === '' || part === '__proto__' || part === 'constructor' || part === 'prototype')) {
      throw usage(`${JSON.stringify(arg.slice(0, eq))} is not a usable key`);
    }
    let target = input;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      if (typeof next === 'object' && next !== null && !Array.isArray(next)) target = next;
      else {
        const created: { [key: string]: Json } = {};
        target[part] = created;
        target = created;
      }
    }
    target[path.at(-1) ?? ''] = pairValue(arg.slice(eq + 1));
  }
  return input;
}
