import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonLength } from './jsonLength.ts';

describe('jsonLength', () => {
  it('property: equals JSON.stringify’s length for JSON without escapes', () => {
    const plain = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.stringMatching(/^[a-z ]*$/),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(plain, (value) => {
        expect(jsonLength(value, Number.POSITIVE_INFINITY)).toBe(JSON.stringify(value).length);
      }),
      { numRuns: 300 },
    );
  });

  it('stops early past the limit and treats a cycle as over any limit', () => {
    expect(jsonLength('x'.repeat(1000), 10)).toBeGreaterThan(10);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonLength(cyclic, 1e9)).toBe(Number.POSITIVE_INFINITY);
  });
});
