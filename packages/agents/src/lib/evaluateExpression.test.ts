import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpressionError, type ExpressionErrorCode } from './ExpressionError.ts';
import { evaluateExpression } from './evaluateExpression.ts';
import { MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_LENGTH } from './parseExpression.ts';

function failure(source: string): ExpressionError {
  try {
    evaluateExpression(source);
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(source)} to fail`);
}

describe('evaluateExpression', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['(2+3)*4', 20],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['7 % 3', 1],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['2 ^ -1', 0.5],
    ['--3', 3],
    ['-(4 - 6)', 2],
    ['+5', 5],
    ['1.5e3 + .5', 1500.5],
    ['sqrt(16)', 4],
    ['abs(-7.5)', 7.5],
    ['min(4, 2, 8)', 2],
    ['max(4, 2, 8)', 8],
    ['round(2.5)', 3],
    ['round(3.14159, 2)', 3.14],
    ['floor(-1.5)', -2],
    ['ceil(1.2)', 2],
    ['log(e)', 1],
    ['log(8, 2)', 3],
    ['exp(0)', 1],
    ['sin(0) + cos(0)', 1],
    ['PI', Math.PI],
    ['2 * pi', 2 * Math.PI],
  ])('evaluates %s with the usual precedence and associativity', (source, expected) => {
    expect(evaluateExpression(source)).toBeCloseTo(expected, 12);
  });

  it.each<[string, ExpressionErrorCode, number | undefined]>([
    ['', 'EMPTY', undefined],
    ['   ', 'EMPTY', undefined],
    ['1 +', 'UNEXPECTED_END', 4],
    ['(1 + 2', 'UNEXPECTED_END', 7],
    ['1 + 2)', 'UNEXPECTED_TOKEN', 6],
    ['1 2', 'UNEXPECTED_TOKEN', 3],
    ['1.2.3', 'UNEXPECTED_TOKEN', 4],
    ['* 3', 'UNEXPECTED_TOKEN', 1],
    ['2 # 3', 'UNEXPECTED_CHARACTER', 3],
    ['process.exit(1)', 'UNEXPECTED_CHARACTER', 8],
    ['foo(1)', 'UNKNOWN_NAME', 1],
    ['sqrt 4', 'UNEXPECTED_TOKEN', 1],
    ['sqrt(1, 2)', 'WRONG_ARITY', 1],
    ['min()', 'UNEXPECTED_TOKEN', 5],
    ['1 / 0', 'DIVISION_BY_ZERO', 3],
    ['5 % (2 - 2)', 'DIVISION_BY_ZERO', 3],
    ['sqrt(-1)', 'INVALID_ARGUMENT', 1],
    ['log(0)', 'INVALID_ARGUMENT', 1],
    ['round(1, 2.5)', 'INVALID_ARGUMENT', 1],
    ['10 ^ 400', 'NOT_FINITE', 4],
  ])('refuses %j with %s at character %s', (source, code, position) => {
    const error = failure(source);
    expect(error.code).toBe(code);
    expect(error.position).toBe(position);
    if (position !== undefined) expect(error.message).toContain(`at character ${position}`);
  });

  it('refuses input longer than the limit before tokenizing it', () => {
    const error = failure('1+'.repeat(MAX_EXPRESSION_LENGTH));
    expect(error.code).toBe('TOO_LONG');
    expect(error.message).toContain(String(MAX_EXPRESSION_LENGTH));
  });

  it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
    const depth = MAX_EXPRESSION_DEPTH + 1;
    expect(failure(`${'('.repeat(depth)}1${')'.repeat(depth)}`).code).toBe('TOO_DEEP');
    expect(failure(`${'-'.repeat(depth)}1`).code).toBe('TOO_DEEP');
    expect(evaluateExpression(`${'('.repeat(MAX_EXPRESSION_DEPTH)}1${')'.repeat(MAX_EXPRESSION_DEPTH)}`)).toBe(1);
  });

  // A reference model built from the same tree the generator prints: the parser must agree with it.
  type Tree = number | { op: '+' | '-' | '*'; left: Tree; right: Tree } | { neg: Tree };
  const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { maxDepth: 5, depthIdentifier: 'tree' },
      fc.integer({ min: 0, max: 99 }),
      fc.record({
        op: fc.constantFrom('+' as const, '-' as const, '*' as const),
        left: tie('tree'),
        right: tie('tree'),
      }),
      fc.record({ neg: tie('tree') }),
    ),
  })).tree;
  const print = (t: Tree): string =>
    typeof t === 'number'
      ? String(t)
      : 'neg' in t
        ? `-(${print(t.neg)})`
        : `(${print(t.left)} ${t.op} ${print(t.right)})`;
  const model = (t: Tree): number => {
    if (typeof t === 'number') return t;
    if ('neg' in t) return -model(t.neg);
    const [l, r] = [model(t.left), model(t.right)];
    return t.op === '+' ? l + r : t.op === '-' ? l - r : l * r;
  };

  it('agrees with a reference model on generated integer expressions', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const source = print(t);
        fc.pre(source.length <= MAX_EXPRESSION_LENGTH);
        expect(evaluateExpression(source)).toBe(model(t) + 0);
      }),
      { numRuns: 300 },
    );
  });

  it('either returns a finite number or throws an ExpressionError for any input', () => {
    const alphabet = fc.constantFrom(...'0123456789+-*/%^()., episqrtminaxlogabs#'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 80 }), (chars) => {
        try {
          expect(Number.isFinite(evaluateExpression(chars.join('')))).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ExpressionError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
