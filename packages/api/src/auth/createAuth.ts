import { createPublicKey } from 'node:crypto';
import type { Role } from '@toolrun/dispatcher';
import { idProblem } from '@toolrun/dispatcher';
import type { CryptoKey, JWTPayload } from 'jose';
import { errors, importSPKI, jwtVerify, SignJWT } from 'jose';
import { AuthError } from './AuthError.ts';

/** Who a request is authenticated as. */
export interface Principal {
  readonly userId: string;
  readonly roles: readonly Role[];
}

/** A token `auth.login` hands out. */
export interface IssuedToken {
  token: string;
  /** ISO-8601. */
  expiresAt: string;
  principal: Principal;
}

/** What a valid token proves. */
export interface VerifiedToken {
  principal: Principal;
  /** Epoch milliseconds of `exp`; `null` for an external token without one. */
  expiresAtMs: number | null;
}

/** Issues (development mode only) and verifies bearer tokens. */
export interface Auth {
  readonly mode: 'dev' | 'external';
  /** Signs a token for `principal`; throws {@link AuthError} `LOGIN_DISABLED` in external mode. */
  issue(principal: Principal): Promise<IssuedToken>;
  /** Verifies a token; throws {@link AuthError} `INVALID_TOKEN` or `EXPIRED_TOKEN`. */
  verify(token: string): Promise<VerifiedToken>;
}

/** The development identity provider: HS256 tokens signed with a local secret. */
export interface DevAuthOptions {
  mode: 'dev';
  /** At least 32 bytes (or characters). */
  secret: Uint8Array | string;
  /** Default 12 hours. */
  tokenTtlSeconds?: number;
  /**
   * Whether `auth.login` may sign tokens with the admin role; default true. When false, asking for
   * one is `LOGIN_DISABLED` (`FORBIDDEN`) and users still sign in as themselves.
   */
  adminLogin?: boolean;
  /** Wall clock in epoch milliseconds, for tests. */
  now?: () => number;
}

/** External tokens: HS256 with a shared secret, or RS256/ES256/ES384 with a PEM public key. */
export interface ExternalAuthOptions {
  mode: 'external';
  key: { secret: Uint8Array | string } | { publicKeyPem: string };
  issuer?: string;
  audience?: string;
  now?: () => number;
}

export type AuthOptions = DevAuthOptions | ExternalAuthOptions;

/** `iss` and `aud` of development tokens. */
export const DEV_TOKEN_ISSUER = 'toolrun-dev';
export const DEV_TOKEN_AUDIENCE = 'toolrun';
const DEFAULT_TTL_SECONDS = 12 * 60 * 60;
const MIN_SECRET_BYTES = 32;
// Clock skew accepted between the issuer and this server.
const CLOCK_TOLERANCE_SECONDS = 5;

type VerifyKey = Uint8Array | CryptoKey;

/**
 * Creates the authenticator. Development mode signs and verifies HS256 tokens with its own secret;
 * external mode never signs and verifies tokens from another identity provider. Unsigned (`alg: none`)
 * tokens and tokens signed with any other algorithm than the configured one are refused.
 *
 * @example
 * const auth = await createAuth({ mode: 'dev', secret: process.env.TOOLRUN_SECRET ?? '' });
 * const { token } = await auth.issue({ userId: 'alice', roles: ['user'] });
 * const { principal } = await auth.verify(token);
 */
export async function createAuth(opts: AuthOptions): Promise<Auth> {
  const now = opts.now ?? Date.now;
  if (opts.mode === 'dev') {
    const secret = secretBytes(opts.secret);
    const ttl = opts.tokenTtlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl <= 0)
      throw new AuthError('INVALID_CONFIG', 'tokenTtlSeconds must be a positive integer');
    const check = verifier({
      key: secret,
      algorithms: ['HS256'],
      issuer: DEV_TOKEN_ISSUER,
      audience: DEV_TOKEN_AUDIENCE,
      now,
    });
    return {
      mode: 'dev',
      async issue(principal) {
        const problem = idProblem(principal.userId);
        if (problem !== undefined) throw new AuthError('INVALID_TOKEN', `userId ${problem}`);
        const roles = normalizeRoles(principal.roles);
        if (opts.adminLogin === false && roles.includes('admin')) {
          throw new AuthError(
            'LOGIN_DISABLED',
            'signing in with the admin role is turned off on this server (TOOLRUN_DEV_ADMIN_LOGIN=false); sign in as a user',
          );
        }
        const iat = Math.floor(now() / 1000);
        const token = await new SignJWT({ roles: [...roles] })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setSubject(principal.userId)
          .setIssuer(DEV_TOKEN_ISSUER)
          .setAudience(DEV_TOKEN_AUDIENCE)
          .setIssuedAt(iat)
          .setExpirationTime(iat + ttl)
          .sign(secret);
        return {
          token,
          expiresAt: new Date((iat + ttl) * 1000).toISOString(),
          principal: { userId: principal.userId, roles },
        };
      },
      verify: check,
    };
  }
  const { key, algorithms } = await externalKey(opts.key);
  const check = verifier({
    key,
    algorithms,
    now,
    ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }),
    ...(opts.audience === undefined ? {} : { audience: opts.audience }),
  });
  return {
    mode: 'external',
    issue() {
      return Promise.reject(
        new AuthError(
          'LOGIN_DISABLED',
          'auth.login is disabled: this server verifies tokens from an external identity provider (TOOLRUN_AUTH_MODE=external)',
        ),
      );
    },
    verify: check,
  };
}

function verifier(opts: {
  key: VerifyKey;
  algorithms: string[];
  issuer?: string;
  audience?: string;
  now: () => number;
}): (token: string) => Promise<VerifiedToken> {
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, opts.key, {
        algorithms: opts.algorithms,
        currentDate: new Date(opts.now()),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }),
        ...(opts.audience === undefined ? {} : { audience: opts.audience }),
      }));
    } catch (cause) {
      if (cause instanceof errors.JWTExpired) throw new AuthError('EXPIRED_TOKEN', 'the token has expired', { cause });
      throw new AuthError('INVALID_TOKEN', `the token is not valid (${reason(cause)})`, { cause });
    }
    return {
      principal: principalOf(payload),
      expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
    };
  };
}

function reason(cause: unknown): string {
  if (cause instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (cause instanceof errors.JWSSignatureVerificationFailed) return 'signature mismatch';
  if (cause instanceof errors.JWTClaimValidationFailed) return `claim "${cause.claim}" ${cause.reason}`;
  if (cause instanceof errors.JWSInvalid || cause instanceof errors.JWTInvalid) return 'malformed';
  return 'unverifiable';
}

function principalOf(payload: JWTPayload): Principal {
  const problem = idProblem(payload.sub);
  if (problem !== undefined || typeof payload.sub !== 'string') {
    throw new AuthError('INVALID_TOKEN', `the token's subject ${problem ?? 'is missing'}`);
  }
  const claimed = Array.isArray(payload.roles) ? payload.roles : typeof payload.role === 'string' ? [payload.role] : [];
  const roles = claimed.filter((r): r is Role => r === 'user' || r === 'admin');
  return { userId: payload.sub, roles: normalizeRoles(roles) };
}

/** Every principal is a user; an admin is a user with the admin role too. */
function normalizeRoles(roles: readonly Role[]): Role[] {
  return roles.includes('admin') ? ['user', 'admin'] : ['user'];
}

function secretBytes(secret: Uint8Array | string): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new AuthError('INVALID_CONFIG', `the signing secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

async function externalKey(key: ExternalAuthOptions['key']): Promise<{ key: VerifyKey; algorithms: string[] }> {
  if ('secret' in key) return { key: secretBytes(key.secret), algorithms: ['HS256'] };
  try {
    let alg: string;
    const keyObject = createPublicKey(key.publicKeyPem);
    const type = keyObject.asymmetricKeyType;
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    if (type === 'rsa') alg = 'RS256';
    else if (type === 'ec' && curve === 'prime256v1') alg = 'ES256';
    else if (type === 'ec' && curve === 'secp384r1') alg = 'ES384';
    else throw new Error(`unsupported key type ${type ?? 'unknown'}${curve === undefined ? '' : ` (${curve})`}`);
    return { key: await importSPKI(key.publicKeyPem, alg), algorithms: [alg] };
  } catch (cause) {
    throw new AuthError('INVALID_CONFIG', `TOOLRUN_JWT_PUBLIC_KEY is not a usable SPKI public key: ${String(cause)}`, {
      cause,
    });
  }
}
