import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createThoughtBuffer } from './createThoughtBuffer.ts';

function collect(deltas: readonly string[], opts?: { minChars?: number; maxChars?: number }): string[] {
  const thoughts: string[] = [];
  const buffer = createThoughtBuffer((text) => thoughts.push(text), opts);
  for (const delta of deltas) buffer.push(delta);
  buffer.flush();
  return thoughts;
}

describe('createThoughtBuffer', () => {
  it('emits whole sentences, not one thought per token', () => {
    const text = 'First I look up the docs. Then I compute the sum! Finally I answer.';
    const tokens = text.match(/\S+\s*/g) ?? [];
    expect(collect(tokens, { minChars: 20 })).toEqual([
      'First I look up the docs.',
      'Then I compute the sum!',
      'Finally I answer.',
    ]);
  });

  it('holds short text back until the end of the stream', () => {
    expect(collect(['Hi', '. ', 'Ok', '.'])).toEqual(['Hi. Ok.']);
  });

  it('cuts text with no boundary once it passes maxChars', () => {
    expect(collect(['x'.repeat(30), 'y'.repeat(30)], { minChars: 10, maxChars: 50 })).toEqual([
      `${'x'.repeat(30)}${'y'.repeat(30)}`,
    ]);
  });

  it('emits nothing for an empty or blank stream', () => {
    expect(collect([])).toEqual([]);
    expect(collect(['  ', '\n'])).toEqual([]);
  });

  it('loses no text, whatever the split of the stream into deltas', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 100 }),
        (deltas, min) => {
          const squash = (text: string) => text.replace(/\s+/g, '');
          expect(squash(collect(deltas, { minChars: min, maxChars: min * 4 }).join(''))).toBe(squash(deltas.join('')));
        },
      ),
    );
  });
});
