import { idProblem, MAX_ID_LENGTH, parseEventId } from '@toolrun/dispatcher';
import { z } from 'zod';

/**
 * Input pieces shared by the procedures. Every string, array and number has a bound, so no input
 * can make the server do unbounded work.
 */

/** A user, run or thread id: the dispatcher's rules (no placeholders, no control characters, ≤ 128). */
export const idSchema = z
  .string()
  .max(MAX_ID_LENGTH)
  .superRefine((value, ctx) => {
    const problem = idProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A run id as the API hands them out; only length is checked (an unknown id is simply NOT_FOUND). */
export const runIdSchema = z.string().min(1).max(MAX_ID_LENGTH);

/** `${runId}:${seq}`. */
export const eventIdSchema = z
  .string()
  .min(3)
  .max(MAX_ID_LENGTH + 17)
  .refine((value) => parseEventId(value) !== undefined, { message: 'must be an event id (`<runId>:<seq>`)' });

/** A `runs.start` idempotency key: 1 to 255 characters, no control characters. */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), { message: 'must not contain control characters' });

/** A tool or agent name. */
export const nameSchema = z.string().min(1).max(64);

/** A page cursor as a previous page returned it. */
export const cursorSchema = z.string().min(1).max(512);

/** Page size, 1 to 100 (default 20). */
export const limitSchema = z.number().int().min(1).max(100).default(20);
