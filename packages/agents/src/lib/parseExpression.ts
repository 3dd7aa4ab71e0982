import { ExpressionError } from './ExpressionError.ts';
import { type ExpressionToken, type Operator, tokenizeExpression } from './tokenizeExpression.ts';

/** The longest expression accepted, in characters. */
export const MAX_EXPRESSION_LENGTH = 500;
/** How deeply parentheses, signs and powers may nest; keeps recursion far from the stack limit. */
export const MAX_EXPRESSION_DEPTH = 64;

/** A parsed expression. Constants are resolved while parsing, so a tree holds only numbers and operations. */
export type ExpressionNode =
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'negate'; readonly operand: ExpressionNode }
  | {
      readonly type: 'binary';
      readonly operator: Operator;
      readonly left: ExpressionNode;
      readonly right: ExpressionNode;
      readonly position: number;
    }
  | {
      readonly type: 'call';
      readonly name: string;
      readonly args: readonly ExpressionNode[];
      readonly position: number;
    };

const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E };

/** Functions and how many arguments each takes. Their meaning lives in `evaluateExpression.ts`. */
export const FUNCTION_ARITY: Readonly<Record<string, { min: number; max: number }>> = {
  sqrt: { min: 1, max: 1 },
  abs: { min: 1, max: 1 },
  min: { min: 1, max: 32 },
  max: { min: 1, max: 32 },
  round: { min: 1, max: 2 },
  floor: { min: 1, max: 1 },
  ceil: { min: 1, max: 1 },
  log: { min: 1, max: 2 },
  exp: { min: 1, max: 1 },
  sin: { min: 1, max: 1 },
  cos: { min: 1, max: 1 },
};

function describe(token: ExpressionToken): string {
  switch (token.type) {
    case 'number':
      return `number ${token.text}`;
    case 'name':
      return `name "${token.name}"`;
    case 'operator':
      return `"${token.operator}"`;
    case 'open':
      return '"("';
    case 'close':
      return '")"';
    case 'comma':
      return '","';
    default: {
      const unreachable: never = token;
      return String(unreachable);
    }
  }
}

/**
 * Parses an arithmetic expression by recursive descent. Grammar, loosest binding first:
 *
 * ```
 * sum     := product (("+" | "-") product)*
 * product := signed (("*" | "/" | "%") signed)*
 * signed  := ("-" | "+") signed | power
 * power   := primary ("^" signed)?          right-associative; -2^2 is -(2^2)
 * primary := number | constant | name "(" sum ("," sum)* ")" | "(" sum ")"
 * ```
 *
 * Throws {@link ExpressionError} for empty, over-long, over-deep or malformed input, unknown names and
 * wrong argument counts.
 */
export function parseExpression(source: string): ExpressionNode {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      'TOO_LONG',
      `expression is ${source.length} characters long; the limit is ${MAX_EXPRESSION_LENGTH}`,
    );
  }
  const tokens = tokenizeExpression(source);
  if (tokens.length === 0) throw new ExpressionError('EMPTY', 'expression is empty');
  let index = 0;
  let depth = 0;

  const peek = (): ExpressionToken | undefined => tokens[index];
  const endPosition = source.length + 1;

  function enter(position: number): void {
    depth += 1;
    if (depth > MAX_EXPRESSION_DEPTH) {
      throw new ExpressionError('TOO_DEEP', `expression nests more than ${MAX_EXPRESSION_DEPTH} levels deep`, position);
    }
  }

  function expect(type: 'close', after: string): ExpressionToken {
    const token = peek();
    if (token === undefined) throw new ExpressionError('UNEXPECTED_END', `missing ")" ${after}`, endPosition);
    if (token.type !== type) {
      throw new ExpressionError(
        'UNEXPECTED_TOKEN',
        `expected ")" ${after} but found ${describe(token)}`,
        token.position,
      );
    }
    index += 1;
    return token;
  }

  function sum(): ExpressionNode {
    let left = product();
    for (let token = peek(); token?.type === 'operator' && (token.operator === '+' || token.operator === '-'); ) {
      index += 1;
      left = { type: 'binary', operator: token.operator, left, right: product(), position: token.position };
      token = peek();
    }
    return left;
  }

  function product(): ExpressionNode {
    let left = signed();
    for (
      let token = peek();
      token?.type === 'operator' && (token.operator === '*' || token.operator === '/' || token.operator === '%');
    ) {
      index += 1;
      left = { type: 'binary', operator: token.operator, left, right: signed(), position: token.position };
      token = peek();
    }
    return left;
  }

  function signed(): ExpressionNode {
    const token = peek();
    if (token?.type === 'operator' && (token.operator === '-' || token.operator === '+')) {
      index += 1;
      enter(token.position);
      const operand = signed();
      depth -= 1;
      return token.operator === '-' ? { type: 'negate', operand } : operand;
    }
    return power();
  }

  function power(): ExpressionNode {
    const base = primary();
    const token = peek();
    if (token?.type === 'operator' && token.operator === '^') {
      index += 1;
      enter(token.position);
      const exponent = signed();
      depth -= 1;
      return { type: 'binary', operator: '^', left: base, right: exponent, position: token.position };
    }
    return base;
  }

  function primary(): ExpressionNode {
    const token = peek();
    if (token === undefined) throw new ExpressionError('UNEXPECTED_END', 'expression ends too early', endPosition);
    index += 1;
    switch (token.type) {
      case 'number':
        return { type: 'number', value: token.value };
      case 'open': {
        enter(token.position);
        const inner = sum();
        expect('close', `to match "(" at character ${token.position}`);
        depth -= 1;
        return inner;
      }
      case 'name':
        return named(token);
      case 'operator':
      case 'close':
      case 'comma':
        throw new ExpressionError('UNEXPECTED_TOKEN', `unexpected ${describe(token)}`, token.position);
      default: {
        const unreachable: never = token;
        throw new ExpressionError('UNEXPECTED_TOKEN', `unexpected token ${String(unreachable)}`);
      }
    }
  }

  function named(token: Extract<ExpressionToken, { type: 'name' }>): ExpressionNode {
    const arity = FUNCTION_ARITY[token.name];
    if (arity === undefined) {
      const constant = CONSTANTS[token.name];
      if (constant !== undefined) return { type: 'number', value: constant };
      throw new ExpressionError(
        'UNKNOWN_NAME',
        `unknown name "${token.name}" (functions: ${Object.keys(FUNCTION_ARITY).join(', ')}; constants: pi, e)`,
        token.position,
      );
    }
    const open = peek();
    if (open?.type !== 'open') {
      throw new ExpressionError(
        'UNEXPECTED_TOKEN',
        `function "${token.name}" needs "(" after its name`,
        token.position,
      );
    }
    index += 1;
    enter(open.position);
    const args = [sum()];
    while (peek()?.type === 'comma') {
      index += 1;
      args.push(sum());
    }
    expect('close', `to close the arguments of "${token.name}"`);
    depth -= 1;
    if (args.length < arity.min || args.length > arity.max) {
      const wanted = arity.min === arity.max ? `${arity.min}` : `${arity.min} to ${arity.max}`;
      throw new ExpressionError(
        'WRONG_ARITY',
        `"${token.name}" takes ${wanted} argument${wanted === '1' ? '' : 's'}, not ${args.length}`,
        token.position,
      );
    }
    return { type: 'call', name: token.name, args, position: token.position };
  }

  const tree = sum();
  const trailing = peek();
  if (trailing !== undefined) {
    throw new ExpressionError('UNEXPECTED_TOKEN', `unexpected ${describe(trailing)}`, trailing.position);
  }
  return tree;
}
