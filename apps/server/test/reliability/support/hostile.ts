import { appRouter } from '@toolrun/api';
import fc from 'fast-check';

/** A procedure of the router and how it is called. */
export interface ProcedureInfo {
  path: string;
  type: 'query' | 'mutation' | 'subscription';
}

/**
 * Every procedure of `appRouter`, read from the router itself so a procedure added later is fuzzed
 * and checked without anyone remembering to list it.
 */
export function allProcedures(): ProcedureInfo[] {
  const procedures = (appRouter as unknown as { _def: { procedures: Record<string, { _def: { type: string } }> } })._def
    .procedures;
  return Object.entries(procedures)
    .map(([path, procedure]) => ({ path, type: procedure._def.type as ProcedureInfo['type'] }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

// Field names the procedures read, so wrong-typed values land where validation must catch them.
const FIELDS = [
  'agent',
  'input',
  'threadId',
  'runId',
  'lastEventId',
  'scope',
  'limit',
  'cursor',
  'status',
  'userId',
  'role',
  'reason',
  'users',
  'runsPerUser',
  'id',
  'question',
  'steps',
  'delayMs',
] as const;

const ODD_CHARS = [
  '\u0000',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\u{1f4a9}',
  '\u0301',
  '\n',
  '\r\n',
  '"',
  '\\',
  '%00',
  '../',
  '<script>',
  "' OR 1=1 --",
  'default',
  'anonymous',
  'null',
];

/** Short odd strings: lone surrogates, control and bidi characters, injections, placeholders. */
export const shortOddString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...ODD_CHARS), maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 5 }),
);

/** Odd strings, or huge ones (200 to 70,000 characters). */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  shortOddString,
  fc.integer({ min: 200, max: 70_000 }).map((n) => 'x'.repeat(n)),
);

/** Any JSON value, with odd strings and odd numbers mixed in. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1e308, -1e-308, 2 ** 53 + 1, 0.5, ''),
    oddString,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      fc.oneof(fc.constantFrom(...FIELDS, '__proto__', 'constructor', 'prototype'), oddString),
      tie('value'),
      {
        maxKeys: 5,
      },
    ),
  ),
})).value;

/** An input object whose keys are the procedures' own field names, with wrong-typed or odd values. */
export const hostileInput: fc.Arbitrary<unknown> = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { maxKeys: 6 }),
  hostileValue,
);

/** `n` levels of nested arrays, or objects, as JSON text (deeper than any schema expects). */
export function deeplyNested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A JSON text whose object keys are `__proto__`, `constructor` and `prototype` (as `JSON.parse` keeps them: own keys). */
export const protoPollutionText: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...FIELDS), fc.constantFrom('__proto__', 'constructor', 'prototype'))
  .map(
    ([field, key]) =>
      `{"${field}":{"${key}":{"polluted":"yes","prototype":{"polluted":"yes"}}},"${key}":{"polluted":"yes"},"agent":"calculator","input":{"${key}":{"polluted":"yes"}}}`,
  );

/** A request body as raw text: malformed JSON, deep nesting, prototype keys, or JSON of a hostile input. */
export const hostileBody: fc.Arbitrary<string> = fc.oneof(
  hostileInput.map((value) => JSON.stringify(value) ?? 'null'),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{', '{"runId":', '[1,2', '{"a":1}}', 'undefined', 'NaN', "{'a':1}", '\u0000', '{"a":1,"a":2}', ''),
  fc
    .tuple(fc.integer({ min: 100, max: 200_000 }), fc.constantFrom('array' as const, 'object' as const))
    .map(([d, k]) => deeplyNested(d, k)),
  protoPollutionText,
);

/** What an error response (or error message on a stream) must look like to a client. */
export interface ErrorShape {
  message?: unknown;
  data?: { code?: unknown; httpStatus?: unknown; stack?: unknown };
}

// A stack frame, a source path or a `stack` field: none may reach a client.
const STACK_LIKE = /\n\s+at\s|\bat\s+\S+\s+\([^)]*:\d+:\d+\)|\.(?:ts|js|mjs|cjs):\d+|node:internal|"stack"\s*:/;

/** Problems with an error a client received; empty when it is a readable 4xx with no trace of internals. */
export function errorProblems(raw: string, error: ErrorShape | undefined): string[] {
  const problems: string[] = [];
  if (STACK_LIKE.test(raw)) problems.push('a stack trace or source path in the body');
  if (error === undefined) return problems;
  const status = error.data?.httpStatus;
  if (typeof status !== 'number' || status < 400 || status >= 500) problems.push(`httpStatus ${String(status)}`);
  if (error.data?.code === 'INTERNAL_SERVER_ERROR') problems.push('INTERNAL_SERVER_ERROR');
  if (error.data?.stack !== undefined) problems.push('data.stack');
  const message = error.message;
  if (typeof message !== 'string' || message.trim() === '') problems.push('no message');
  else if (message.length > 2_000) problems.push(`a ${message.length}-character message`);
  else if (/^\s*[[{]/.test(message)) problems.push(`a JSON dump as message: ${message.slice(0, 80)}`);
  return problems;
}
