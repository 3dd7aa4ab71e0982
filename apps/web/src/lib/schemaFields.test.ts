import { describe, expect, it } from 'vitest';
import { inputFromFields, schemaFields } from './schemaFields.ts';

const schema = {
  type: 'object',
  properties: {
    query: { type: 'string', description: 'What to look for' },
    limit: { type: 'integer', minimum: 1, default: 3 },
    mode: { type: 'string', enum: ['fast', 'slow'] },
    exact: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['query', 'mode'],
};

describe('schemaFields', () => {
  it("builds one field per property of a tool's object schema, prefilled from its defaults", () => {
    const fields = schemaFields(schema);
    expect(fields?.map((f) => [f.name, f.kind, f.required, f.initial])).toEqual([
      ['query', 'string', true, ''],
      ['limit', 'integer', false, '3'],
      ['mode', 'enum', true, 'fast'],
      ['exact', 'boolean', false, 'false'],
      ['tags', 'json', false, ''],
    ]);
    expect(fields?.[0]?.description).toBe('What to look for');
    expect(fields?.[2]?.options).toEqual(['fast', 'slow']);
  });

  it('gives no fields for a schema that is not an object with properties', () => {
    expect(schemaFields({ type: 'string' })).toBeUndefined();
    expect(schemaFields(undefined)).toBeUndefined();
  });
});

describe('inputFromFields', () => {
  const fields = schemaFields(schema) ?? [];

  it('turns the texts into typed input, leaving blank optional fields out', () => {
    expect(inputFromFields(fields, { query: 'isolation', limit: '5', exact: 'true', tags: '["a"]' })).toEqual({
      ok: true,
      value: { query: 'isolation', limit: 5, mode: 'fast', exact: true, tags: ['a'] },
    });
    expect(inputFromFields(fields, { query: '', limit: '' })).toEqual({
      ok: true,
      value: { query: '', mode: 'fast', exact: false },
    });
  });

  it('names the field whose text does not parse', () => {
    expect(inputFromFields(fields, { limit: 'many' })).toEqual({ ok: false, message: 'limit: not a number' });
    expect(inputFromFields(fields, { tags: '[oops' })).toEqual({ ok: false, message: 'tags: not valid JSON' });
  });
});
