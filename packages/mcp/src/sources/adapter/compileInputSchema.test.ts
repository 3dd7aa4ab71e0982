import { describe, expect, it } from 'vitest';
import { ajvInput, createSchemaCompiler } from './compileInputSchema.ts';

describe('MCP input schemas, validated by ajv with its own issues', () => {
  it('follows $ref into $defs under a 2020-12 $schema, checks formats and reports every issue with its path', () => {
    const validate = createSchemaCompiler().compile({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { name: { type: 'string', minLength: 2 } },
      properties: { a: { $ref: '#/$defs/name' }, mail: { type: 'string', format: 'email' } },
      required: ['a'],
      additionalProperties: false,
    });
    const input = ajvInput(validate);
    const issues = input.safeParse({ a: 'x', mail: 'nope', extra: 1 }).error?.issues ?? [];
    expect(issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['', 'must NOT have additional properties (extra)'],
      ['a', 'must NOT have fewer than 2 characters'],
      ['mail', 'must match format "email"'],
    ]);
    expect(input.safeParse({ a: 'xy' })).toMatchObject({ success: true, data: { a: 'xy' } });
  });

  it('reads draft-07 definitions and schemas with no $schema, and a $id repeated across tools', () => {
    const compiler = createSchemaCompiler();
    const draft7 = compiler.compile({
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: 'https://example.com/same.json',
      definitions: { n: { type: 'number' } },
      type: 'object',
      properties: { n: { $ref: '#/definitions/n' } },
    });
    expect(ajvInput(draft7).safeParse({ n: 's' }).error?.issues[0]).toMatchObject({ path: ['n'] });
    const plain = compiler.compile({
      $id: 'https://example.com/same.json',
      type: 'object',
      properties: { s: { type: 'string' } },
    });
    expect(ajvInput(plain).safeParse({ s: 1 }).success).toBe(false);
    expect(ajvInput(plain).safeParse({ s: 'ok' }).success).toBe(true);
  });
});
