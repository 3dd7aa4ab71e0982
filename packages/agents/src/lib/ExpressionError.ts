/** Why an expression could not be evaluated. */
export const EXPRESSION_ERROR_CODES = {
  EMPTY: 'EMPTY',
  TOO_LONG: 'TOO_LONG',
  TOO_DEEP: 'TOO_DEEP',
  UNEXPECTED_CHARACTER: 'UNEXPECTED_CHARACTER',
  UNEXPECTED_TOKEN: 'UNEXPECTED_TOKEN',
  UNEXPECTED_END: 'UNEXPECTED_END',
  UNKNOWN_NAME: 'UNKNOWN_NAME',
  WRONG_ARITY: 'WRONG_ARITY',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  DIVISION_BY_ZERO: 'DIVISION_BY_ZERO',
  NOT_FINITE: 'NOT_FINITE',
} as const;
export type ExpressionErrorCode = keyof typeof EXPRESSION_ERROR_CODES;

/**
 * The one error {@link evaluateExpression} throws. `position` is the 1-based character where the
 * problem was found, when there is one.
 */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  readonly code: ExpressionErrorCode;
  readonly position: number | undefined;

  constructor(code: ExpressionErrorCode, message: string, position?: number) {
    super(position === undefined ? message : `${message} at character ${position}`);
    this.code = code;
    this.position = position;
  }
}
