import type { JsonValue } from './types.ts';

type Schema = { [key: string]: unknown };

function asSchema(value: unknown): Schema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : undefined;
}

function isJson(value: unknown): value is JsonValue {
  return value !== undefined && JSON.stringify(value) !== undefined;
}

/**
 * A starting value for a JSON Schema (as produced by `z.toJSONSchema`): the schema's `default`
 * where it has one, else `const` or the first `enum` value, else a neutral value of its type;
 * an object gets its required properties and those with a default, in schema order.
 * Used to prefill the run form with an agent's input.
 *
 * @example
 * schemaDefaults({ type: 'object', properties: { n: { type: 'integer', default: 3 } } }) // { n: 3 }
 */
export function schemaDefaults(schema: unknown, depth = 0): JsonValue {
  const s = asSchema(schema);
  if (s === undefined || depth > 8) return null;
  if ('default' in s && isJson(s.default)) return s.default;
  if ('const' in s && isJson(s.const)) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0 && isJson(s.enum[0])) return s.enum[0];
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = s[key];
    if (Array.isArray(options)) {
      // Prefer a non-null branch: `nullable` fields are better prefilled with a real value.
      const pick = options.find((o) => asSchema(o)?.type !== 'null') ?? options[0];
      return schemaDefaults(pick, depth + 1);
    }
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const properties = asSchema(s.properties) ?? {};
      const required = new Set(Array.isArray(s.required) ? s.required : []);
      const out: { [key: string]: JsonValue } = {};
      for (const [name, prop] of Object.entries(properties)) {
        if (required.has(name) || 'default' in (asSchema(prop) ?? {})) out[name] = schemaDefaults(prop, depth + 1);
      }
      return out;
    }
    case 'array': {
      const min = typeof s.minItems === 'number' ? Math.min(s.minItems, 3) : 0;
      return Array.from({ length: min }, () => schemaDefaults(s.items, depth + 1));
    }
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}
