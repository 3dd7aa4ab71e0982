import { describe, expect, it } from 'vitest';
import { stableStringify } from './stableStringify.ts';

describe('stableStringify', () => {
  it('gives the same bytes whatever order the keys were set in, at every depth', () => {
    const a = { b: 1, a: { y: [3, { q: 1, p: 2 }], x: null } };
    const b = { a: { x: null, y: [3, { p: 2, q: 1 }] }, b: 1 };
    expect(stableStringify(a)).toBe(stableStringify(b));
    expect(stableStringify(a)).toBe(
      '{\n  "a": {\n    "x": null,\n    "y": [\n      3,\n      {\n        "p": 2,\n        "q": 1\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
  });

  it('keeps array order and leaves undefined properties out, as JSON does', () => {
    expect(JSON.parse(stableStringify({ list: [3, 1, 2], gone: undefined }))).toEqual({ list: [3, 1, 2] });
  });

  it('ends with a newline so that the committed file diffs cleanly', () => {
    expect(stableStringify(1).endsWith('\n')).toBe(true);
  });
});
