/**
 * The user id as it goes into a per-user process's `args`, `env` and `cwd`: every character outside
 * `[A-Za-z0-9_-]` becomes `%XX` per UTF-8 byte (`%` itself too). One id gives one value and two ids
 * never give the same, and the value holds no `/` or `.`, so `../bob` cannot reach bob's folder.
 */
export function encodeUserId(userId: string): string {
  let out = '';
  for (const byte of Buffer.from(userId, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * What `{userId}` becomes in the discovery process that lists a per-user source's tools at start.
 * It starts with `.`, which no encoded user id does: no user ever shares its folder.
 */
export const DISCOVERY_USER = '.discovery';

/** `template` with every `{userId}` replaced by `value` (an encoded id or {@link DISCOVERY_USER}). */
export function substituteUserId(template: string, value: string): string {
  return template.replaceAll('{userId}', value);
}
