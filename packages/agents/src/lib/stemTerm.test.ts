import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stemTerm } from './stemTerm.ts';

describe('stemTerm', () => {
  it.each([
    ['isolated', 'isol'],
    ['isolation', 'isol'],
    ['cancelled', 'cancel'],
    ['cancelling', 'cancel'],
    ['events', 'event'],
    ['resume', 'resum'],
    ['resuming', 'resum'],
    ['run', 'run'],
  ])('stems %s to %s', (word, stem) => {
    expect(stemTerm(word)).toBe(stem);
  });

  it('always returns a non-empty prefix of the lower-cased word, so snippets can find it', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z]{1,20}$/), (word) => {
        const stem = stemTerm(word);
        expect(stem.length).toBeGreaterThan(0);
        expect(word.toLowerCase().startsWith(stem)).toBe(true);
      }),
    );
  });
});
