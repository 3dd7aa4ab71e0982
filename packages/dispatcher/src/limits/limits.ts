import type { Role } from '../context.ts';
import { DispatchError } from '../errors.ts';

/** A token bucket: `capacity` tokens at most, refilled at `refillPerSecond`. */
export interface TokenBucketLimits {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** Truncation applied to event payloads (see `redact`). */
export interface RedactionOptions {
  /** Strings longer than this are cut, with a marker saying how much was cut. */
  readonly maxStringLength: number;
  /** Arrays longer than this are cut, with a marker item. */
  readonly maxArrayLength: number;
  /** Objects with more keys than this are cut, with a marker key. */
  readonly maxObjectKeys: number;
  /** Deeper values become `"[MAX_DEPTH]"`. */
  readonly maxDepth: number;
}

/** Every limit the dispatcher enforces. Each refusal has its own error code and a `limitHit` metric. */
export interface DispatcherLimits {
  /** Per tool call, unless the tool sets `timeoutMs` (`TOOL_TIMEOUT`). */
  readonly toolTimeoutMs: number;
  /** Per run, from `agent_started` (`RUN_DEADLINE`). */
  readonly runDeadlineMs: number;
  /** Live scopes one user may hold (`SCOPE_LIMIT`); nothing is ever evicted to make room. */
  readonly maxScopesPerUser: number;
  /** Agent runs one user may have active at once (`CONCURRENT_RUN_LIMIT`). */
  readonly maxConcurrentRunsPerUser: number;
  /** Tool calls in flight at once within one run (`PARALLEL_CALL_LIMIT`). */
  readonly maxParallelToolCalls: number;
  /** Per user, by their highest role; each run start and each tool call takes one token (`RATE_LIMITED`). */
  readonly rateLimit: Readonly<Record<Role, TokenBucketLimits>>;
  /** Per tool, across users: opens after `failureThreshold` consecutive failures, half-opens after `cooldownMs` (`CIRCUIT_OPEN`). */
  readonly circuitBreaker: { readonly failureThreshold: number; readonly cooldownMs: number };
  /** Length of a tool's or agent's input as JSON text, in characters (`INPUT_TOO_LARGE`). */
  readonly maxInputChars: number;
  readonly redaction: RedactionOptions;
}

/** Limits for overrides: every field optional, nested objects too. */
export type DispatcherLimitsInput = Partial<
  Omit<DispatcherLimits, 'rateLimit' | 'circuitBreaker' | 'redaction'> & {
    rateLimit: Partial<Record<Role, Partial<TokenBucketLimits>>>;
    circuitBreaker: Partial<DispatcherLimits['circuitBreaker']>;
    redaction: Partial<RedactionOptions>;
  }
>;

/** The defaults: generous for interactive use, strict enough to stop a runaway agent. */
export const DEFAULT_LIMITS: DispatcherLimits = Object.freeze({
  toolTimeoutMs: 30_000,
  runDeadlineMs: 300_000,
  maxScopesPerUser: 64,
  maxConcurrentRunsPerUser: 16,
  maxParallelToolCalls: 16,
  rateLimit: Object.freeze({
    user: Object.freeze({ capacity: 300, refillPerSecond: 100 }),
    admin: Object.freeze({ capacity: 1_000, refillPerSecond: 500 }),
  }),
  circuitBreaker: Object.freeze({ failureThreshold: 5, cooldownMs: 30_000 }),
  maxInputChars: 1_000_000,
  redaction: Object.freeze({ maxStringLength: 4_096, maxArrayLength: 200, maxObjectKeys: 200, maxDepth: 32 }),
});

/** setTimeout cannot wait longer than this; larger values would fire at once. Internal. */
export const MAX_TIMER_MS = 2_147_483_647;

function positive(path: string, value: number, opts: { integer?: boolean; infinite?: boolean; max?: number } = {}) {
  const ok =
    typeof value === 'number' &&
    value > 0 &&
    (Number.isFinite(value)
      ? !opts.integer || Number.isInteger(value)
      : opts.infinite === true && value === Infinity) &&
    (opts.max === undefined || value <= opts.max);
  if (!ok) {
    const kind = opts.integer ? 'a positive integer' : 'a positive number';
    const rest = `${opts.infinite ? ' or Infinity' : ''}${opts.max === undefined ? '' : ` at most ${opts.max}`}`;
    throw new DispatchError('INVALID_LIMITS', `limits.${path} must be ${kind}${rest}, not ${String(value)}`, {
      details: { field: path },
    });
  }
  return value;
}

/**
 * Merges overrides onto {@link DEFAULT_LIMITS} and validates the result; throws `INVALID_LIMITS`
 * naming the field. `Infinity` switches off a count or rate limit; timeouts must be finite timers.
 */
export function resolveLimits(input: DispatcherLimitsInput = {}): DispatcherLimits {
  const d = DEFAULT_LIMITS;
  const bucket = (role: Role): TokenBucketLimits => {
    const given = input.rateLimit?.[role];
    return Object.freeze({
      capacity: positive(`rateLimit.${role}.capacity`, given?.capacity ?? d.rateLimit[role].capacity, {
        infinite: true,
      }),
      refillPerSecond: positive(
        `rateLimit.${role}.refillPerSecond`,
        given?.refillPerSecond ?? d.rateLimit[role].refillPerSecond,
        { infinite: true },
      ),
    });
  };
  const r = input.redaction;
  return Object.freeze({
    toolTimeoutMs: positive('toolTimeoutMs', input.toolTimeoutMs ?? d.toolTimeoutMs, { max: MAX_TIMER_MS }),
    runDeadlineMs: positive('runDeadlineMs', input.runDeadlineMs ?? d.runDeadlineMs, { max: MAX_TIMER_MS }),
    maxScopesPerUser: positive('maxScopesPerUser', input.maxScopesPerUser ?? d.maxScopesPerUser, {
      integer: true,
      infinite: true,
    }),
    maxConcurrentRunsPerUser: positive(
      'maxConcurrentRunsPerUser',
      input.maxConcurrentRunsPerUser ?? d.maxConcurrentRunsPerUser,
      { integer: true, infinite: true },
    ),
    maxParallelToolCalls: positive('maxParallelToolCalls', input.maxParallelToolCalls ?? d.maxParallelToolCalls, {
      integer: true,
      infinite: true,
    }),
    rateLimit: Object.freeze({ user: bucket('user'), admin: bucket('admin') }),
    circuitBreaker: Object.freeze({
      failureThreshold: positive(
        'circuitBreaker.failureThreshold',
        input.circuitBreaker?.failureThreshold ?? d.circuitBreaker.failureThreshold,
        { integer: true, infinite: true },
      ),
      cooldownMs: positive(
        'circuitBreaker.cooldownMs',
        input.circuitBreaker?.cooldownMs ?? d.circuitBreaker.cooldownMs,
      ),
    }),
    maxInputChars: positive('maxInputChars', input.maxInputChars ?? d.maxInputChars, { integer: true, infinite: true }),
    redaction: Object.freeze({
      maxStringLength: positive('redaction.maxStringLength', r?.maxStringLength ?? d.redaction.maxStringLength, {
        integer: true,
        infinite: true,
      }),
      maxArrayLength: positive('redaction.maxArrayLength', r?.maxArrayLength ?? d.redaction.maxArrayLength, {
        integer: true,
        infinite: true,
      }),
      maxObjectKeys: positive('redaction.maxObjectKeys', r?.maxObjectKeys ?? d.redaction.maxObjectKeys, {
        integer: true,
        infinite: true,
      }),
      maxDepth: positive('redaction.maxDepth', r?.maxDepth ?? d.redaction.maxDepth, { integer: true, max: 1_000 }),
    }),
  });
}
