import { describe, expect, it } from 'vitest';
import { extractExpressions } from './extractExpressions.ts';

describe('extractExpressions', () => {
  it.each([
    ['what is (2+3)*4 and sqrt(16)?', ['(2+3)*4', 'sqrt(16)']],
    ['What is 2 plus 2?', ['2 + 2']],
    ['Compute max(1, 7, 3), then 10 divided by 4.', ['max(1, 7, 3)', '10 / 4']],
    ['what is the square root of 81', ['sqrt(81)']],
    ['3 squared; 2 to the power of 10', ['3^2', '2 ^ 10']],
    ['what is 3 x 4', ['3 * 4']],
    ['How much is 1.5 times 4?', ['1.5 * 4']],
    ['what is 2 * pi', ['2 * pi']],
    ['What is 7 mod 3 and 2 ** 8', ['7 % 3', '2 ^ 8']],
  ])('reads %j as %j', (question, expressions) => {
    expect(extractExpressions(question).expressions).toEqual(expressions);
  });

  it('keeps commas inside function calls and splits on the ones outside', () => {
    expect(extractExpressions('min(4, 2), max(4, 2)').expressions).toEqual(['min(4, 2)', 'max(4, 2)']);
  });

  it('reports clauses with no arithmetic as skipped', () => {
    expect(extractExpressions('hello there, what is 1+1?')).toEqual({ expressions: ['1+1'], skipped: ['hello there'] });
    expect(extractExpressions('tell me a story')).toEqual({ expressions: [], skipped: ['tell me a story'] });
  });

  it('does not mistake the letter e inside words for the constant', () => {
    expect(extractExpressions('the answer please').expressions).toEqual([]);
  });

  it('takes at most ten expressions from one question', () => {
    expect(extractExpressions(Array.from({ length: 15 }, (_, i) => `${i}+1`).join(', ')).expressions).toHaveLength(10);
  });
});
