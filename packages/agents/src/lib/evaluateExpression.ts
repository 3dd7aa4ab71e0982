import { ExpressionError } from './ExpressionError.ts';
import { type ExpressionNode, parseExpression } from './parseExpression.ts';

const MAX_ROUND_DIGITS = 15;

function finite(value: number, what: string, position: number): number {
  if (!Number.isFinite(value)) {
    throw new ExpressionError('NOT_FINITE', `${what} is not a finite number (${String(value)})`, position);
  }
  return value;
}

function callFunction(name: string, args: readonly number[], position: number): number {
  const [x = Number.NaN, y] = args;
  switch (name) {
    case 'sqrt':
      if (x < 0) throw new ExpressionError('INVALID_ARGUMENT', `sqrt of a negative number (${x})`, position);
      return Math.sqrt(x);
    case 'abs':
      return Math.abs(x);
    case 'min':
      return Math.min(...args);
    case 'max':
      return Math.max(...args);
    case 'round': {
      if (y === undefined) return Math.round(x);
      if (!Number.isInteger(y) || y < 0 || y > MAX_ROUND_DIGITS) {
        throw new ExpressionError(
          'INVALID_ARGUMENT',
          `round's digits must be a whole number from 0 to ${MAX_ROUND_DIGITS}, not ${y}`,
          position,
        );
      }
      const scale = 10 ** y;
      return Math.round(x * scale) / scale;
    }
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'log': {
      if (x <= 0)
        throw new ExpressionError('INVALID_ARGUMENT', `log of a number that is not positive (${x})`, position);
      if (y === undefined) return Math.log(x);
      if (y <= 0 || y === 1) {
        throw new ExpressionError('INVALID_ARGUMENT', `log base must be positive and not 1, not ${y}`, position);
      }
      return Math.log(x) / Math.log(y);
    }
    case 'exp':
      return Math.exp(x);
    case 'sin':
      return Math.sin(x);
    case 'cos':
      return Math.cos(x);
    default:
      // parseExpression refuses unknown names, so this is a bug in the function table.
      throw new ExpressionError('UNKNOWN_NAME', `unknown function "${name}"`, position);
  }
}

/** Evaluates a parsed tree. Throws {@link ExpressionError} for division by zero and non-finite results. */
export function evaluateTree(node: ExpressionNode): number {
  switch (node.type) {
    case 'number':
      return node.value;
    case 'negate':
      return -evaluateTree(node.operand);
    case 'binary': {
      const left = evaluateTree(node.left);
      const right = evaluateTree(node.right);
      switch (node.operator) {
        case '+':
          return finite(left + right, 'the sum', node.position);
        case '-':
          return finite(left - right, 'the difference', node.position);
        case '*':
          return finite(left * right, 'the product', node.position);
        case '/':
          if (right === 0) throw new ExpressionError('DIVISION_BY_ZERO', 'division by zero', node.position);
          return finite(left / right, 'the quotient', node.position);
        case '%':
          if (right === 0)
            throw new ExpressionError('DIVISION_BY_ZERO', 'remainder of a division by zero', node.position);
          return finite(left % right, 'the remainder', node.position);
        case '^':
          return finite(left ** right, 'the power', node.position);
        default: {
          const unreachable: never = node.operator;
          throw new ExpressionError('UNEXPECTED_TOKEN', `unknown operator ${String(unreachable)}`, node.position);
        }
      }
    }
    case 'call': {
      const args = node.args.map(evaluateTree);
      return finite(callFunction(node.name, args, node.position), `the result of ${node.name}`, node.position);
    }
    default: {
      const unreachable: never = node;
      throw new ExpressionError('UNEXPECTED_TOKEN', `unknown node ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Evaluates an arithmetic expression safely: a recursive-descent parser, never `eval` or `Function`.
 * Supports `+ - * / % ^`, parentheses, unary minus, `sqrt abs min max round floor ceil log exp sin cos`
 * (`log(x)` is natural, `log(x, b)` is base b; `round(x, d)` keeps d decimals) and the constants `pi`, `e`.
 *
 * @throws {ExpressionError} with a code and a 1-based character position
 * @example evaluateExpression('(2+3)*4') // 20
 */
export function evaluateExpression(source: string): number {
  const value = evaluateTree(parseExpression(source));
  // -0 is an artefact of IEEE arithmetic that reads as a bug to a person ("-(0)" is 0).
  return value === 0 ? 0 : value;
}
