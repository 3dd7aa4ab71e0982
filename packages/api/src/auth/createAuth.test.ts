import { generateKeyPairSync } from 'node:crypto';
import { base64url, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AuthError } from './AuthError.ts';
import { createAuth, DEV_TOKEN_AUDIENCE, DEV_TOKEN_ISSUER } from './createAuth.ts';

const SECRET = 'a-development-secret-of-at-least-32-bytes!';
const OTHER_SECRET = 'another-secret-that-is-long-enough-too!!';
const HOUR = 3_600_000;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthError) return error.code;
    throw error;
  }
  return 'OK';
}

describe('createAuth in dev mode', () => {
  it('issues a token that verifies back to the same principal, with roles normalised', async () => {
    const auth = await createAuth({ mode: 'dev', secret: SECRET });
    const issued = await auth.issue({ userId: 'alice', roles: ['admin'] });
    expect(issued.principal).toEqual({ userId: 'alice', roles: ['user', 'admin'] });
    const verified = await auth.verify(issued.token);
    expect(verified.principal).toEqual({ userId: 'alice', roles: ['user', 'admin'] });
    expect(verified.expiresAtMs).toBe(Date.parse(issued.expiresAt));
  });

  it('refuses to sign an admin token when admin sign-in is off (LOGIN_DISABLED, readable), and still signs users', async () => {
    const auth = await createAuth({ mode: 'dev', secret: SECRET, adminLogin: false });
    const refused = auth.issue({ userId: 'mallory', roles: ['admin'] });
    await expect(refused).rejects.toThrow(/admin role is turned off.*TOOLRUN_DEV_ADMIN_LOGIN=false/);
    expect(await codeOf(auth.issue({ userId: 'mallory', roles: ['admin'] }))).toBe('LOGIN_DISABLED');
    expect((await auth.issue({ userId: 'alice', roles: ['user'] })).principal.roles).toEqual(['user']);
  });

  it('gives tokens that expire after the configured time, and refuses them once expired', async () => {
    const issuedLongAgo = await createAuth({
      mode: 'dev',
      secret: SECRET,
      tokenTtlSeconds: 3600,
      now: () => Date.now() - 2 * HOUR,
    });
    const { token, expiresAt } = await issuedLongAgo.issue({ userId: 'alice', roles: ['user'] });
    expect(Date.parse(expiresAt)).toBeLessThan(Date.now());
    const auth = await createAuth({ mode: 'dev', secret: SECRET });
    expect(await codeOf(auth.verify(token))).toBe('EXPIRED_TOKEN');
  });

  it('refuses a token signed with another secret (forged)', async () => {
    const forger = await createAuth({ mode: 'dev', secret: OTHER_SECRET });
    const { token } = await forger.issue({ userId: 'alice', roles: ['admin'] });
    const auth = await createAuth({ mode: 'dev', secret: SECRET });
    expect(await codeOf(auth.verify(token))).toBe('INVALID_TOKEN');
  });

  it('refuses a token whose payload was edited after signing', async () => {
    const auth = await createAuth({ mode: 'dev', secret: SECRET });
    const { token } = await auth.issue({ userId: 'alice', roles: ['user'] });
    const [header, , signature] = token.split('.');
    const payload = base64url.encode(
      JSON.stringify({
        sub: 'alice',
        roles: ['user', 'admin'],
        iss: DEV_TOKEN_ISSUER,
        aud: DEV_TOKEN_AUDIENCE,
        exp: 9e9,
      }),
    );
    expect(await codeOf(auth.verify(`${header}.${payload}.${signature}`))).toBe('INVALID_TOKEN');
  });

  it('refuses unsigned tokens (alg none) and tokens with the signature stripped', async () => {
    const auth = await createAuth({ mode: 'dev', secret: SECRET });
    const unsecured = new UnsecuredJWT({ roles: ['admin'] })
      .setSubject('alice')
      .setIssuer(DEV_TOKEN_ISSUER)
      .setAudience(DEV_TOKEN_AUDIENCE)
      .setExpirationTime('1h')
      .encode();
    expect(await codeOf(auth.verify(unsecured))).toBe('INVALID_TOKEN');
    const { token } = await auth.issue({ userId: 'alice', roles: ['user'] });
    expect(await codeOf(auth.verify(token.slice(0, token.lastIndexOf('.') + 1)))).toBe('INVALID_TOKEN');
    expect(await codeOf(auth.verify('not-a-jwt'))).toBe('INVALID_TOKEN');
  });

  it('refuses a token signed with the right secret but another algorithm (HS512)', async () => {
    const auth = await createAuth({ mode: 'dev', secret: SECRET });
    const token = await new SignJWT({ roles: ['user'] })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .setIssuer(DEV_TOKEN_ISSUER)
      .setAudience(DEV_TOKEN_AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    expect(await codeOf(auth.verify(token))).toBe('INVALID_TOKEN');
  });

  it('refuses to sign or accept a placeholder identity', async () => {
    const auth = await createAuth({ mode: 'dev', secret: SECRET });
    expect(await codeOf(auth.issue({ userId: 'anonymous', roles: ['user'] }))).toBe('INVALID_TOKEN');
    const token = await new SignJWT({ roles: ['user'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('default')
      .setIssuer(DEV_TOKEN_ISSUER)
      .setAudience(DEV_TOKEN_AUDIENCE)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    expect(await codeOf(auth.verify(token))).toBe('INVALID_TOKEN');
  });

  it('refuses a secret shorter than 32 bytes', async () => {
    expect(await codeOf(createAuth({ mode: 'dev', secret: 'short' }))).toBe('INVALID_CONFIG');
  });
});

describe('createAuth in external mode', () => {
  it('never issues tokens (auth.login is disabled)', async () => {
    const auth = await createAuth({ mode: 'external', key: { secret: SECRET } });
    expect(await codeOf(auth.issue({ userId: 'alice', roles: ['user'] }))).toBe('LOGIN_DISABLED');
  });

  it('verifies HS256 tokens of the shared secret, with issuer and audience when configured', async () => {
    const auth = await createAuth({
      mode: 'external',
      key: { secret: SECRET },
      issuer: 'https://idp',
      audience: 'toolrun',
    });
    const sign = (iss: string) =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('carol')
        .setIssuer(iss)
        .setAudience('toolrun')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET));
    expect((await auth.verify(await sign('https://idp'))).principal).toEqual({
      userId: 'carol',
      roles: ['user', 'admin'],
    });
    expect(await codeOf(auth.verify(await sign('https://evil')))).toBe('INVALID_TOKEN');
  });

  it('verifies RS256 and ES256 tokens with a PEM public key and refuses HS256 tokens made with that PEM as secret', async () => {
    for (const [type, alg] of [
      ['rsa', 'RS256'],
      ['ec', 'ES256'],
    ] as const) {
      const pair =
        type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const auth = await createAuth({ mode: 'external', key: { publicKeyPem: pem } });
      const good = await new SignJWT({})
        .setProtectedHeader({ alg })
        .setSubject('dave')
        .setExpirationTime('1h')
        .sign(pair.privateKey);
      expect((await auth.verify(good)).principal).toEqual({ userId: 'dave', roles: ['user'] });
      // The classic key-confusion attack: the public key used as an HMAC secret.
      const confused = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('dave')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(pem));
      expect(await codeOf(auth.verify(confused))).toBe('INVALID_TOKEN');
    }
  });

  it('reports an unusable PEM as a configuration error', async () => {
    expect(await codeOf(createAuth({ mode: 'external', key: { publicKeyPem: 'not a pem' } }))).toBe('INVALID_CONFIG');
  });
});
