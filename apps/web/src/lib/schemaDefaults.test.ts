import { describe, expect, it } from 'vitest';
import { schemaDefaults } from './schemaDefaults.ts';

describe('schemaDefaults', () => {
  it("prefills an agent's input from its schema: defaults, then required fields, skipping optional ones", () => {
    const schema = {
      type: 'object',
      properties: {
        query: { type: 'string', default: 'isolation' },
        steps: { type: 'integer', minimum: 1, maximum: 9 },
        mode: { type: 'string', enum: ['fast', 'slow'] },
        verbose: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        note: { anyOf: [{ type: 'null' }, { type: 'string' }] },
      },
      required: ['steps', 'mode', 'tags', 'note'],
    };
    expect(schemaDefaults(schema)).toEqual({ query: 'isolation', steps: 1, mode: 'fast', tags: [''], note: '' });
  });

  it('gives null for anything it cannot read rather than throwing', () => {
    expect(schemaDefaults(undefined)).toBeNull();
    expect(schemaDefaults({ $ref: '#/defs/x' })).toBeNull();
    expect(schemaDefaults('nonsense')).toBeNull();
  });
});
