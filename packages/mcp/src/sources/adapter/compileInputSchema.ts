import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';

// ajv-formats is CommonJS: its default export is the plugin function itself.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const OPTIONS: Options = {
  // Servers' schemas use keywords ajv does not know (titles, examples, vendor extensions): not an error.
  strict: false,
  allErrors: true,
  // A `$id` in one tool's schema must not make another's compile fail.
  addUsedSchema: false,
  validateFormats: true,
};

/** One set of validators per listing of a server's tools, so that nothing accumulates across refreshes. */
export interface SchemaCompiler {
  compile(schema: object): ValidateFunction;
}

/** Validators for JSON Schema draft-07 (and older, read as draft-07), 2019-09 and 2020-12 (the default). */
export function createSchemaCompiler(): SchemaCompiler {
  let draft7: Ajv | undefined;
  let draft2019: Ajv | undefined;
  let draft2020: Ajv | undefined;
  return {
    compile(schema) {
      const dialect = (schema as { $schema?: unknown }).$schema;
      const uri = typeof dialect === 'string' ? dialect : '';
      if (/draft-0[4-7]/.test(uri)) {
        draft7 ??= addFormats(new Ajv(OPTIONS));
        // draft-04/06 ids read as draft-07 (ajv 8 has no draft-04 meta-schema by default).
        return draft7.compile(uri.includes('draft-07') ? schema : withoutDialect(schema));
      }
      if (uri.includes('2019-09')) {
        draft2019 ??= addFormats(new Ajv2019(OPTIONS) as unknown as Ajv);
        return draft2019.compile(schema);
      }
      // MCP's default dialect is 2020-12; an unknown one is read as 2020-12 too.
      draft2020 ??= addFormats(new Ajv2020(OPTIONS) as unknown as Ajv);
      return draft2020.compile(uri.includes('2020-12') ? schema : withoutDialect(schema));
    },
  };
}

function withoutDialect(schema: object): object {
  const { $schema: _dropped, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/**
 * A zod schema that validates with `validate` (an ajv validator of the tool's JSON Schema) and
 * reports ajv's own issues, path and message, so that the dispatcher's INVALID_INPUT shows them.
 */
export function ajvInput(validate: ValidateFunction): z.ZodType<Record<string, unknown>> {
  return z.custom<Record<string, unknown>>().superRefine((value, ctx) => {
    if (validate(value)) return;
    for (const error of validate.errors ?? []) {
      ctx.addIssue({ code: 'custom', message: messageOf(error), path: pathOf(error.instancePath) });
    }
  });
}

function messageOf(error: ErrorObject): string {
  const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
  return `${error.message ?? error.keyword}${extra}`;
}

// `/a/0/b~1c` → ['a', '0', 'b/c'] (RFC 6901 escapes).
function pathOf(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}
