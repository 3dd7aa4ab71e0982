import { randomUUID } from 'node:crypto';
import { DispatchError } from './errors.ts';
import type { JsonValue } from './events.ts';

/** The roles a principal can hold. */
export type Role = 'user' | 'admin';

/**
 * Who a request runs for. Created only by {@link createUserExecutionContext} (or
 * {@link createChildContext}), validated and deeply frozen; nothing in it can change.
 */
export interface UserExecutionContext {
  readonly userId: string;
  readonly threadId: string;
  readonly runId: string;
  readonly requestId: string;
  readonly roles: readonly Role[];
  readonly metadata: Readonly<Record<string, JsonValue>>;
  /** 0 for a request, parent depth + 1 for a sub-agent; at most {@link MAX_CONTEXT_DEPTH}. */
  readonly depth: number;
  readonly parentRequestId: string | undefined;
  /** `${userId}/${runId}/${requestId}`: put it on every log line of the request. */
  readonly correlationId: string;
}

export interface CreateUserExecutionContextInput {
  userId: string;
  threadId: string;
  runId: string;
  requestId?: string;
  roles?: readonly Role[];
  metadata?: Record<string, JsonValue>;
}

export const MAX_ID_LENGTH = 128;
export const MAX_CONTEXT_DEPTH = 10;

/** Ids that betray a missing or made-up identity; compared case-insensitively. */
const PLACEHOLDER_IDS = new Set([
  'registry',
  'placeholder',
  'default',
  'temp',
  'tmp',
  'none',
  'null',
  'undefined',
  'nil',
  '0',
  '1',
  'example',
  'test',
  'demo',
  'sample',
  'template',
  'mock',
  'fake',
  'dummy',
  'anonymous',
  'anon',
  'unknown',
  'user',
  'guest',
  'system',
  'nan',
  'empty',
  'todo',
  'xxx',
  'foo',
  'bar',
  'changeme',
]);
/** Short ids that start with one of these (`test_1`, `default-user`) are placeholders too. */
const PLACEHOLDER_PREFIXES = [
  'placeholder',
  'default',
  'temp',
  'example',
  'test',
  'demo',
  'sample',
  'template',
  'mock',
  'fake',
  'dummy',
  'anonymous',
  'undefined',
  'null',
  'none',
  'registry',
];
const SHORT_ID_LENGTH = 16;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Returns the reason `value` is not acceptable as an id, or `undefined` when it is.
 * Exposed so that transports can validate ids with the same rules before creating a context.
 */
export function idProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0 || value.trim().length === 0) return 'must not be empty';
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  if (CONTROL_CHARACTERS.test(value)) return 'must not contain control characters';
  if (value !== value.trim()) return 'must not start or end with white space';
  const lower = value.toLowerCase();
  if (PLACEHOLDER_IDS.has(lower)) return `must not be a placeholder ("${value}")`;
  if (lower.length <= SHORT_ID_LENGTH) {
    for (const prefix of PLACEHOLDER_PREFIXES) {
      // `test1`, `test_1`, `default-user`: the prefix, then digits or a separator and a short word.
      if (lower.startsWith(prefix) && /^(?:[-_.:]?[0-9]*|[-_.:][a-z0-9]{1,8})$/.test(lower.slice(prefix.length))) {
        return `must not be a placeholder ("${value}" starts with "${prefix}")`;
      }
    }
  }
  return undefined;
}

function checkId(field: string, value: unknown): string {
  const problem = idProblem(value);
  if (problem !== undefined) {
    throw new DispatchError('INVALID_CONTEXT', `${field} ${problem}`, { details: { field, rule: problem } });
  }
  return value as string;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * The class behind every context. Its private field is a brand no hand-made object can carry
 * ({@link isUserExecutionContext}), and records, invisibly and even though the context is frozen,
 * whether a scope has taken it. Not exported: a context is made only by the functions below.
 */
class IssuedContext {
  #bound = false;
  readonly userId: string;
  readonly threadId: string;
  readonly runId: string;
  readonly requestId: string;
  readonly roles: readonly Role[];
  readonly metadata: Readonly<Record<string, JsonValue>>;
  readonly depth: number;
  readonly parentRequestId: string | undefined;
  readonly correlationId: string;

  // Fields set in one place and in one order: every context has one shape, and no copy is made.
  constructor(fields: UserExecutionContext) {
    this.userId = fields.userId;
    this.threadId = fields.threadId;
    this.runId = fields.runId;
    this.requestId = fields.requestId;
    this.roles = fields.roles;
    this.metadata = fields.metadata;
    this.depth = fields.depth;
    this.parentRequestId = fields.parentRequestId;
    this.correlationId = fields.correlationId;
  }

  static is(value: object): boolean {
    return #bound in value;
  }

  /** Marks the context as taken by a scope; false if it already was. */
  static bind(value: IssuedContext): boolean {
    if (value.#bound) return false;
    value.#bound = true;
    return true;
  }
}

const EMPTY_METADATA: Readonly<Record<string, JsonValue>> = Object.freeze({});
const DEFAULT_ROLES: readonly Role[] = Object.freeze(['user'] as Role[]);

function build(
  input: CreateUserExecutionContextInput,
  depth: number,
  parentRequestId: string | undefined,
): UserExecutionContext {
  const userId = checkId('userId', input.userId);
  const threadId = checkId('threadId', input.threadId);
  const runId = checkId('runId', input.runId);
  const requestId = checkId('requestId', input.requestId ?? randomUUID());
  let roles = DEFAULT_ROLES;
  if (input.roles !== undefined) {
    const given = [...new Set<Role>(input.roles)];
    for (const role of given as readonly unknown[]) {
      if (role !== 'user' && role !== 'admin') {
        throw new DispatchError('INVALID_CONTEXT', `roles must be "user" or "admin", not ${JSON.stringify(role)}`, {
          details: { field: 'roles', rule: 'known role' },
        });
      }
    }
    roles = Object.freeze(given);
  }
  // structuredClone: the caller keeps no handle on the frozen metadata.
  const metadata =
    input.metadata === undefined || Object.keys(input.metadata).length === 0
      ? EMPTY_METADATA
      : structuredClone(input.metadata);
  const context: UserExecutionContext = new IssuedContext({
    userId,
    threadId,
    runId,
    requestId,
    roles,
    // Frozen all the way down; EMPTY_METADATA already is, and a frozen tree is skipped at once.
    metadata: deepFreeze(metadata),
    depth,
    parentRequestId,
    correlationId: `${userId}/${runId}/${requestId}`,
  });
  // Every field is a string, a number, undefined or an array/object frozen above: a shallow freeze
  // freezes the whole context.
  return Object.freeze(context);
}

/**
 * Whether `value` was created by {@link createUserExecutionContext} or {@link createChildContext}.
 * A hand-made object with the same fields is not a context: the factory refuses it.
 */
export function isUserExecutionContext(value: unknown): value is UserExecutionContext {
  return typeof value === 'object' && value !== null && IssuedContext.is(value);
}

/**
 * Marks a context as taken by a scope. Returns false when it already was (or is not a context):
 * one context, one scope. For the factory; not exported from the package.
 */
export function bindContext(context: UserExecutionContext): boolean {
  return isUserExecutionContext(context) && IssuedContext.bind(context as unknown as IssuedContext);
}

/**
 * Validates and freezes the identity of one request. Refuses empty, over-long, control-character
 * and placeholder ids with a {@link DispatchError} `INVALID_CONTEXT` that names the field and rule.
 *
 * @example
 * const ctx = createUserExecutionContext({ userId: 'alice', threadId: 't-42', runId: 'run-1' });
 */
export function createUserExecutionContext(input: CreateUserExecutionContextInput): UserExecutionContext {
  return build(input, 0, undefined);
}

/** A context for a sub-agent: same user, thread, run and roles; a new request id; one level deeper. */
export function createChildContext(
  parent: UserExecutionContext,
  opts: { requestId?: string; metadata?: Record<string, JsonValue> } = {},
): UserExecutionContext {
  if (parent.depth + 1 > MAX_CONTEXT_DEPTH) {
    throw new DispatchError('INVALID_CONTEXT', `depth must be at most ${MAX_CONTEXT_DEPTH}`, {
      details: { field: 'depth', rule: `at most ${MAX_CONTEXT_DEPTH}` },
    });
  }
  return build(
    {
      userId: parent.userId,
      threadId: parent.threadId,
      runId: parent.runId,
      roles: parent.roles,
      metadata: { ...parent.metadata, ...opts.metadata },
      ...(opts.requestId === undefined ? {} : { requestId: opts.requestId }),
    },
    parent.depth + 1,
    parent.requestId,
  );
}

/** Whether the context holds the admin role. */
export function isAdmin(context: Pick<UserExecutionContext, 'roles'>): boolean {
  return context.roles.includes('admin');
}
