import { DispatchError, defineTool } from '@toolrun/dispatcher';
import { z } from 'zod';
import { ExpressionError } from '../lib/ExpressionError.ts';
import { evaluateExpression } from '../lib/evaluateExpression.ts';
import { MAX_EXPRESSION_LENGTH } from '../lib/parseExpression.ts';

/** The calculator tool's input. */
export const calculatorInput = z
  .object({
    expression: z
      .string()
      .min(1)
      .max(MAX_EXPRESSION_LENGTH)
      .describe('Arithmetic: + - * / % ^, parentheses, sqrt abs min max round floor ceil log exp sin cos, pi, e'),
  })
  .strict();

/**
 * `calculator`: evaluates an arithmetic expression with a recursive-descent parser (never `eval`).
 * Output `{ expression, result, formatted }`, where `formatted` has at most 12 significant digits.
 * Bad syntax, unknown names, division by zero and non-finite results fail the call (`TOOL_FAILED`,
 * `details.reason` = the {@link ExpressionError} code) with a message that names the character.
 */
export const calculatorTool = defineTool({
  name: 'calculator',
  description:
    'Evaluates an arithmetic expression exactly as written: + - * / % ^ (power), parentheses, unary minus, ' +
    'functions sqrt, abs, min, max, round(x[, digits]), floor, ceil, log(x[, base]) (natural by default), exp, ' +
    'sin, cos (radians) and the constants pi and e.',
  input: calculatorInput,
  access: 'user',
  timeoutMs: 1_000,
  run({ expression }) {
    try {
      const result = evaluateExpression(expression);
      return { expression, result, formatted: String(Number(result.toPrecision(12))) };
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      throw new DispatchError('TOOL_FAILED', `cannot evaluate ${JSON.stringify(expression)}: ${error.message}`, {
        details: { reason: error.code, position: error.position ?? null },
        cause: error,
      });
    }
  },
});
