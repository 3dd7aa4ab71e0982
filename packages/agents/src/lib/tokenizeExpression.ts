import { ExpressionError } from './ExpressionError.ts';

/** One lexical token of an arithmetic expression; `position` is 1-based. */
export type ExpressionToken =
  | { readonly type: 'number'; readonly value: number; readonly text: string; readonly position: number }
  | { readonly type: 'name'; readonly name: string; readonly position: number }
  | { readonly type: 'operator'; readonly operator: Operator; readonly position: number }
  | { readonly type: 'open' | 'close' | 'comma'; readonly position: number };

export type Operator = '+' | '-' | '*' | '/' | '%' | '^';

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const OPERATORS: ReadonlySet<string> = new Set(['+', '-', '*', '/', '%', '^']);

/** Splits an expression into tokens; throws {@link ExpressionError} `UNEXPECTED_CHARACTER`. */
export function tokenizeExpression(source: string): ExpressionToken[] {
  const tokens: ExpressionToken[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source.charAt(index);
    const position = index + 1;
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    const rest = source.slice(index);
    const number = NUMBER.exec(rest);
    if (number) {
      tokens.push({ type: 'number', value: Number(number[0]), text: number[0], position });
      index += number[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({ type: 'name', name: name[0].toLowerCase(), position });
      index += name[0].length;
      continue;
    }
    if (OPERATORS.has(char)) tokens.push({ type: 'operator', operator: char as Operator, position });
    else if (char === '(') tokens.push({ type: 'open', position });
    else if (char === ')') tokens.push({ type: 'close', position });
    else if (char === ',') tokens.push({ type: 'comma', position });
    else throw new ExpressionError('UNEXPECTED_CHARACTER', `unexpected character ${JSON.stringify(char)}`, position);
    index += 1;
  }
  return tokens;
}
