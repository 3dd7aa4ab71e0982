import { DispatchError, defineTool, type JsonValue } from '@toolrun/dispatcher';
import { z } from 'zod';
import type { ScratchpadStore } from '../ports.ts';

/** The largest value `set` accepts, in bytes of UTF-8 JSON. */
export const MAX_SCRATCHPAD_VALUE_BYTES = 4_096;
/** How many keys one user may hold. */
export const MAX_SCRATCHPAD_KEYS = 100;

// A flat object rather than a union per operation: model tool-calling APIs want one object schema.
/** The scratchpad tool's input. */
export const scratchpadInput = z
  .object({
    op: z.enum(['get', 'set', 'delete', 'list']).describe('What to do'),
    key: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only')
      .optional()
      .describe('The key; required for get, set and delete'),
    value: z.json().optional().describe('Any JSON value; required for set'),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.op !== 'list' && input.key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: `"${input.op}" needs a key` });
    }
    if (input.op === 'set') {
      if (input.value === undefined) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: '"set" needs a value' });
      } else {
        const bytes = Buffer.byteLength(JSON.stringify(input.value));
        if (bytes > MAX_SCRATCHPAD_VALUE_BYTES) {
          ctx.addIssue({
            code: 'custom',
            path: ['value'],
            message: `value is ${bytes} bytes as JSON; the limit is ${MAX_SCRATCHPAD_VALUE_BYTES}`,
          });
        }
      }
    }
  });

function requireKey(key: string | undefined): string {
  // The schema already demands a key for these operations; this keeps the types honest.
  if (key === undefined) throw new DispatchError('INVALID_INPUT', 'a key is required');
  return key;
}

/**
 * `scratchpad`: a per-user key-value notebook (`get`, `set`, `delete`, `list`) persisted through a
 * {@link ScratchpadStore}. Every operation is keyed by the scope's `context.userId`, never by
 * anything in the input, so one user can never read or change another's keys.
 */
export function createScratchpadTool(store: ScratchpadStore) {
  return defineTool({
    name: 'scratchpad',
    description:
      'A private notebook for the current user: get, set, delete or list small JSON values by key ' +
      `(at most ${MAX_SCRATCHPAD_KEYS} keys, ${MAX_SCRATCHPAD_VALUE_BYTES} bytes per value).`,
    input: scratchpadInput,
    access: 'user',
    timeoutMs: 5_000,
    async run(input, { context }) {
      const userId = context.userId;
      switch (input.op) {
        case 'get': {
          const key = requireKey(input.key);
          const value = await store.get(userId, key);
          return { op: input.op, key, found: value !== undefined, value: value ?? null };
        }
        case 'set': {
          const key = requireKey(input.key);
          const value: JsonValue = input.value ?? null;
          const entries = await store.list(userId);
          if (entries.length >= MAX_SCRATCHPAD_KEYS && !entries.some((entry) => entry.key === key)) {
            throw new DispatchError(
              'TOOL_FAILED',
              `the scratchpad is full (${MAX_SCRATCHPAD_KEYS} keys); delete a key before adding "${key}"`,
              { details: { reason: 'SCRATCHPAD_FULL' } },
            );
          }
          await store.set(userId, key, value);
          return { op: input.op, key, bytes: Buffer.byteLength(JSON.stringify(value)) };
        }
        case 'delete': {
          const key = requireKey(input.key);
          return { op: input.op, key, deleted: await store.delete(userId, key) };
        }
        case 'list': {
          const entries = await store.list(userId);
          return { op: input.op, count: entries.length, entries };
        }
        default: {
          const unreachable: never = input.op;
          throw new DispatchError('INVALID_INPUT', `unknown scratchpad operation ${String(unreachable)}`);
        }
      }
    },
  });
}
