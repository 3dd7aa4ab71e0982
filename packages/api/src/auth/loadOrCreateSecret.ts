import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthError } from './AuthError.ts';

/** The file, inside the data folder, that holds the generated development signing secret. */
export const SECRET_FILE_NAME = 'auth-secret';
const SECRET_BYTES = 32;

/**
 * Returns the development signing secret stored in `dataDir`, generating it (32 random bytes,
 * base64url, file mode 0600) the first time. Tokens therefore survive a restart. A secret file
 * that other users can read is narrowed to 0600 before use.
 *
 * @example
 * const secret = loadOrCreateSecret('./data'); // Uint8Array of 32 bytes
 */
export function loadOrCreateSecret(dataDir: string): Uint8Array {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, SECRET_FILE_NAME);
  try {
    // 'wx' fails when the file exists, so two processes starting at once agree on one secret.
    writeFileSync(file, `${randomBytes(SECRET_BYTES).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    if (!isExists(cause)) {
      throw new AuthError('INVALID_CONFIG', `cannot create the signing secret ${file}: ${String(cause)}`, { cause });
    }
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const bytes = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  if (bytes.byteLength < SECRET_BYTES) {
    throw new AuthError('INVALID_CONFIG', `the signing secret in ${file} is shorter than ${SECRET_BYTES} bytes`);
  }
  return new Uint8Array(bytes);
}

function isExists(cause: unknown): boolean {
  return cause instanceof Error && 'code' in cause && cause.code === 'EEXIST';
}
