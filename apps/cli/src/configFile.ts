import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A saved sign-in for one server. */
export interface SavedLogin {
  token: string;
  userId: string;
  /** ISO-8601, or null for a token without expiry. */
  expiresAt: string | null;
}

/** The per-user config file: the server last signed in to, and a token per server URL. */
export interface CliConfig {
  url?: string;
  logins: Record<string, SavedLogin>;
}

function isLogin(value: unknown): value is SavedLogin {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.token === 'string' &&
    typeof v.userId === 'string' &&
    (v.expiresAt === null || typeof v.expiresAt === 'string')
  );
}

/**
 * Reads the config file; a missing file is an empty config. A file that is not ours (unreadable
 * JSON, wrong shape) is reported rather than silently overwritten.
 */
export function readConfig(file: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { logins: {} };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; delete it and sign in again`);
  }
  const raw = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const logins: Record<string, SavedLogin> = {};
  if (typeof raw.logins === 'object' && raw.logins !== null) {
    for (const [url, login] of Object.entries(raw.logins)) if (isLogin(login)) logins[url] = login;
  }
  return typeof raw.url === 'string' ? { url: raw.url, logins } : { logins };
}

/**
 * Writes the config file with mode 0600 (it holds tokens) in a 0700 folder, atomically: a temporary
 * file created 0600 then renamed, so no reader ever sees a half-written or world-readable token.
 */
export function writeConfig(file: string, config: CliConfig): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // The mode of writeFileSync is masked by the umask; the file must be 0600 whatever it is.
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
