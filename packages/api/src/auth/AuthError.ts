/** The codes an {@link AuthError} carries; `toTRPCError` maps each to a tRPC code. */
export const AUTH_ERROR_CODES = {
  /** No token where one is required. */
  MISSING_TOKEN: 'MISSING_TOKEN',
  /** Malformed, forged, unsigned, wrong algorithm, wrong issuer or audience, or an unusable identity. */
  INVALID_TOKEN: 'INVALID_TOKEN',
  /** Well signed, but past its `exp`. */
  EXPIRED_TOKEN: 'EXPIRED_TOKEN',
  /**
   * `auth.login` while the development identity provider is off (`TOOLRUN_AUTH_MODE=external`), or
   * with the admin role while admin sign-in is off (`TOOLRUN_DEV_ADMIN_LOGIN=false`).
   */
  LOGIN_DISABLED: 'LOGIN_DISABLED',
  /** The auth configuration itself is unusable (for example a PEM that is not a public key). */
  INVALID_CONFIG: 'INVALID_CONFIG',
} as const;
export type AuthErrorCode = keyof typeof AUTH_ERROR_CODES;

/** The error type of the authentication module. Messages are safe to show to the caller. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
  }
}

/** Whether `value` is an {@link AuthError}. */
export function isAuthError(value: unknown): value is AuthError {
  return value instanceof AuthError;
}
