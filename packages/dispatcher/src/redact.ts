import type { JsonValue } from './events.ts';
import { DEFAULT_LIMITS, type RedactionOptions } from './limits/limits.ts';

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/** Key names that look secret, at any depth (ARCHITECTURE.md, "The five events"). `api-key` counts too. */
const SECRET_KEY = /password|secret|token|api[-_]?key|auth|credential/i;

/** Whether a key name looks like it holds a secret. */
export function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    // Key names repeat from call to call (they come from schemas); the bound keeps memory flat
    // when they do not.
    if (secretKeys.size >= SECRET_KEY_CACHE) secretKeys.clear();
    secretKeys.set(key, secret);
  }
  return secret;
}
const SECRET_KEY_CACHE = 1_024;
const secretKeys = new Map<string, boolean>();

interface Walk {
  readonly opts: RedactionOptions;
  readonly sensitive: ReadonlySet<string> | undefined;
  readonly ancestors: object[];
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…[truncated ${text.length - max} chars]` : text;
}

/**
 * Returns a plain-JSON copy of `value` fit to leave a scope: keys that look secret (`password`,
 * `secret`, `token`, `api_key`, `apikey`, `auth`, `credential`, case-insensitive, as part of the
 * name) and keys listed in `sensitiveKeys` (exact names, case-insensitive) become `"[REDACTED]"` at
 * any depth; long strings, arrays and objects are cut with a marker; values JSON cannot hold are
 * normalized (`undefined` and functions dropped from objects and `null` in arrays, `NaN` to `null`, `-0` to `0`,
 * `bigint` to a string, `Date` through `toJSON`, `Error` to `{ name, message }`, `Map` to an object,
 * `Set` to an array, cycles to `"[CIRCULAR]"`). The copy is deeply frozen; the input is never modified.
 *
 * @example
 * redact({ user: 'a', apiKey: 'sk-1', nested: { password: 'x' } });
 * // { user: 'a', apiKey: '[REDACTED]', nested: { password: '[REDACTED]' } }
 */
export function redact(
  value: unknown,
  opts: Partial<RedactionOptions> & { sensitiveKeys?: readonly string[] | undefined } = {},
): JsonValue {
  const keys = opts.sensitiveKeys;
  const walk: Walk = {
    opts: {
      maxStringLength: opts.maxStringLength ?? DEFAULT_LIMITS.redaction.maxStringLength,
      maxArrayLength: opts.maxArrayLength ?? DEFAULT_LIMITS.redaction.maxArrayLength,
      maxObjectKeys: opts.maxObjectKeys ?? DEFAULT_LIMITS.redaction.maxObjectKeys,
      maxDepth: opts.maxDepth ?? DEFAULT_LIMITS.redaction.maxDepth,
    },
    sensitive: keys === undefined || keys.length === 0 ? undefined : new Set(keys.map((k) => k.toLowerCase())),
    ancestors: [],
  };
  return copy(value, walk, 0) ?? null;
}

/** The same as {@link redact} with options already resolved; `sensitive` holds lower-cased key names. */
export function redactWith(value: unknown, opts: RedactionOptions, sensitive?: ReadonlySet<string>): JsonValue {
  // A primitive needs no walk state: nothing to recurse into, no cycle to find.
  if (typeof value !== 'object' || value === null) return copy(value, NO_WALK(opts), 0) ?? null;
  return copy(value, { opts, sensitive, ancestors: [] }, 0) ?? null;
}

// A primitive only reads `opts` from its walk; one shared walk per options object is enough.
const primitiveWalks = new WeakMap<RedactionOptions, Walk>();
function NO_WALK(opts: RedactionOptions): Walk {
  let walk = primitiveWalks.get(opts);
  if (!walk) {
    walk = Object.freeze({ opts, sensitive: undefined, ancestors: Object.freeze([]) as unknown as object[] });
    primitiveWalks.set(opts, walk);
  }
  return walk;
}

// Returns undefined for values JSON has no place for, so that objects can drop the key.
function copy(value: unknown, walk: Walk, depth: number): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
      return truncate(value, walk.opts.maxStringLength);
    case 'number':
      // As JSON.stringify does: no NaN or Infinity, and -0 is 0.
      return Number.isFinite(value) ? value + 0 : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      return value === null ? null : copyObject(value as object, walk, depth);
  }
}

function copyObject(value: object, walk: Walk, depth: number): JsonValue | undefined {
  if (walk.ancestors.includes(value)) return '[CIRCULAR]';
  if (depth >= walk.opts.maxDepth) return '[MAX_DEPTH]';
  let plain: boolean;
  try {
    const proto: unknown = Object.getPrototypeOf(value);
    plain =
      (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
  } catch {
    // A proxy whose traps throw, as below.
    return '[UNSERIALIZABLE]';
  }
  if (plain) return copyPlain(value as Record<string, unknown>, walk, depth);
  walk.ancestors.push(value);
  try {
    if (Array.isArray(value)) return copyArray(value, walk, depth);
    if (value instanceof Set) return copyArray([...value], walk, depth);
    if (value instanceof Error) {
      return Object.freeze({
        name: truncate(value.name, walk.opts.maxStringLength),
        message: truncate(value.message, walk.opts.maxStringLength),
      });
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      const json: unknown = toJSON.call(value);
      return json === value ? null : copy(json, walk, depth);
    }
    if (value instanceof Map)
      return copyEntries(
        [...value].map(([k, v]) => [String(k), v] as const),
        walk,
        depth,
      );
    // Keys and reads rather than Object.entries: no pair array per key on the hot path.
    const keys = Object.keys(value);
    const out: { [key: string]: JsonValue } = {};
    const max = walk.opts.maxObjectKeys;
    const sensitive = walk.sensitive;
    for (let i = 0; i < keys.length; i++) {
      if (i >= max) {
        out['…'] = `[${keys.length - max} more keys]`;
        break;
      }
      const key = keys[i] as string;
      if (isSecretKey(key) || sensitive?.has(key.toLowerCase())) {
        // Read anyway, as Object.entries did: a throwing getter still makes the value unserializable.
        void (value as Record<string, unknown>)[key];
        out[key] = REDACTED;
        continue;
      }
      const copied = copy((value as Record<string, unknown>)[key], walk, depth + 1);
      if (copied !== undefined) out[key] = copied;
    }
    return Object.freeze(out);
  } catch {
    // A throwing getter or toJSON must not take the event down with it.
    return '[UNSERIALIZABLE]';
  } finally {
    walk.ancestors.pop();
  }
}

/**
 * The usual payload, a plain object, copied in one pass: no Array/Set/Map/Error/toJSON checks (it is
 * none of them), and it joins the cycle-checking ancestors only once it turns out to hold an object.
 * Each property is read once; every key is still checked, every value copied, the copy frozen.
 */
function copyPlain(value: Record<string, unknown>, walk: Walk, depth: number): JsonValue {
  let nested = false;
  try {
    const keys = Object.keys(value);
    const out: { [key: string]: JsonValue } = {};
    const max = walk.opts.maxObjectKeys;
    const sensitive = walk.sensitive;
    for (let i = 0; i < keys.length; i++) {
      if (i >= max) {
        out['…'] = `[${keys.length - max} more keys]`;
        break;
      }
      const key = keys[i] as string;
      // Read even when redacted, as Object.entries did: a throwing getter makes the object unserializable.
      const item = value[key];
      if (isSecretKey(key) || sensitive?.has(key.toLowerCase())) {
        out[key] = REDACTED;
        continue;
      }
      if (typeof item === 'object' && item !== null && !nested) {
        nested = true;
        walk.ancestors.push(value);
      }
      const copied = copy(item, walk, depth + 1);
      if (copied !== undefined) out[key] = copied;
    }
    return Object.freeze(out);
  } catch {
    // A throwing getter or toJSON must not take the event down with it.
    return '[UNSERIALIZABLE]';
  } finally {
    if (nested) walk.ancestors.pop();
  }
}

function copyEntries(entries: readonly (readonly [string, unknown])[], walk: Walk, depth: number): JsonValue {
  const out: { [key: string]: JsonValue } = {};
  const max = walk.opts.maxObjectKeys;
  let kept = 0;
  for (const [key, item] of entries) {
    if (kept >= max) {
      out['…'] = `[${entries.length - max} more keys]`;
      break;
    }
    kept += 1;
    if (isSecretKey(key) || walk.sensitive?.has(key.toLowerCase())) {
      out[key] = REDACTED;
      continue;
    }
    const copied = copy(item, walk, depth + 1);
    if (copied !== undefined) out[key] = copied;
  }
  return Object.freeze(out);
}

function copyArray(value: readonly unknown[], walk: Walk, depth: number): JsonValue[] {
  const max = walk.opts.maxArrayLength;
  const length = Math.min(value.length, max);
  const out: JsonValue[] = new Array(length);
  for (let i = 0; i < length; i++) out[i] = copy(value[i], walk, depth + 1) ?? null;
  if (value.length > max) out.push(`[… ${value.length - max} more items]`);
  // Frozen like every copy; JsonValue has no readonly array, so the type says mutable.
  return Object.freeze(out) as JsonValue[];
}
