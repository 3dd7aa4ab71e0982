import { schemaDefaults } from './schemaDefaults.ts';
import type { JsonValue } from './types.ts';

type Schema = { [key: string]: unknown };

/** How a form shows one property of an object schema. */
export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

/** One form field, read from one property of a tool's input schema. */
export interface SchemaField {
  readonly name: string;
  readonly kind: FieldKind;
  readonly required: boolean;
  readonly description: string | undefined;
  /** The choices of an `enum` field, as their JSON text. */
  readonly options: readonly string[];
  /** The field's starting text (the property's default, else a neutral value when required, else blank). */
  readonly initial: string;
}

function asSchema(value: unknown): Schema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : undefined;
}

function kindOf(s: Schema): FieldKind {
  if (Array.isArray(s.enum) && s.enum.length > 0 && s.enum.every((v) => typeof v === 'string')) return 'enum';
  const type = Array.isArray(s.type) ? s.type.filter((t) => t !== 'null') : [s.type];
  if (type.length !== 1) return 'json';
  switch (type[0]) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    default:
      return 'json';
  }
}

function initialText(kind: FieldKind, prop: Schema, required: boolean): string {
  const start: JsonValue = required || 'default' in prop ? schemaDefaults(prop) : null;
  if (start === null && !required) return kind === 'boolean' ? 'false' : '';
  switch (kind) {
    case 'string':
    case 'enum':
      return typeof start === 'string' ? start : '';
    case 'number':
    case 'integer':
    case 'boolean':
      return String(start);
    case 'json':
      return JSON.stringify(start);
    default: {
      const unreachable: never = kind;
      return unreachable;
    }
  }
}

/**
 * The fields of a form for a tool's input, one per property of its object schema (as
 * `z.toJSONSchema` writes it): a text box for a string, a number box for a number, a checkbox for a
 * boolean, a choice for a string enum, and JSON text for anything else. `undefined` when the schema
 * is not an object with properties: the form then takes the whole input as JSON.
 *
 * @example
 * schemaFields({ type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] })
 * // [{ name: 'expression', kind: 'string', required: true, initial: '', … }]
 */
export function schemaFields(schema: unknown): SchemaField[] | undefined {
  const s = asSchema(schema);
  const properties = asSchema(s?.properties);
  if (s === undefined || s.type !== 'object' || properties === undefined) return undefined;
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  return Object.entries(properties).map(([name, value]) => {
    const prop = asSchema(value) ?? {};
    const kind = kindOf(prop);
    return {
      name,
      kind,
      required: required.has(name),
      description: typeof prop.description === 'string' ? prop.description : undefined,
      options: kind === 'enum' && Array.isArray(prop.enum) ? prop.enum.map(String) : [],
      initial: initialText(kind, prop, required.has(name)),
    };
  });
}

/**
 * The input the form's texts stand for. A blank optional field is left out (the tool's default
 * applies); a number or JSON field that does not parse is an error naming the field.
 */
export function inputFromFields(
  fields: readonly SchemaField[],
  texts: Readonly<Record<string, string>>,
): { ok: true; value: { [key: string]: JsonValue } } | { ok: false; message: string } {
  const value: { [key: string]: JsonValue } = {};
  for (const field of fields) {
    const text = texts[field.name] ?? field.initial;
    if (text === '' && !field.required) continue;
    switch (field.kind) {
      case 'string':
      case 'enum':
        value[field.name] = text;
        break;
      case 'boolean':
        value[field.name] = text === 'true';
        break;
      case 'number':
      case 'integer': {
        const n = Number(text);
        if (text.trim() === '' || !Number.isFinite(n)) return { ok: false, message: `${field.name}: not a number` };
        value[field.name] = n;
        break;
      }
      case 'json':
        try {
          value[field.name] = JSON.parse(text) as JsonValue;
        } catch {
          return { ok: false, message: `${field.name}: not valid JSON` };
        }
        break;
      default: {
        const unreachable: never = field.kind;
        return unreachable;
      }
    }
  }
  return { ok: true, value };
}
