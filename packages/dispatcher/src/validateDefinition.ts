import { z } from 'zod';
import { deepFreeze } from './deepFreeze.ts';
import { DispatchError } from './errors.ts';
import type { JsonValue } from './events.ts';

/** Tool and agent names: what OpenAI-compatible function calling accepts, starting with a letter. */
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

// setTimeout cannot wait longer than this.
const MAX_TIMER_MS = 2_147_483_647;

function refuse(kind: string, name: unknown, problem: string): never {
  const label = typeof name === 'string' && name.length > 0 ? `${kind} "${name.slice(0, 80)}"` : kind;
  throw new DispatchError('INVALID_REGISTRY', `${label}: ${problem}`, { details: { kind, problem } });
}

function isSchema(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType;
}

/**
 * Checks the fields shared by tools and agents and returns the input's JSON Schema.
 * Throws `INVALID_REGISTRY` naming the definition and the problem.
 */
export function validateDefinition(
  kind: 'tool' | 'agent',
  def: unknown,
  opts: { accessRequired: boolean },
): { inputSchema: JsonValue } {
  if (typeof def !== 'object' || def === null) refuse(kind, undefined, 'must be an object');
  const d = def as Record<string, unknown>;
  const name = d.name;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    refuse(kind, name, `name must match ${NAME_PATTERN} (got ${JSON.stringify(name)?.slice(0, 80)})`);
  }
  if (typeof d.description !== 'string' || d.description.trim().length === 0) {
    refuse(kind, name, 'description must be a non-empty string');
  }
  if (!isSchema(d.input)) refuse(kind, name, 'input must be a zod schema');
  if (d.access !== 'user' && d.access !== 'admin' && (opts.accessRequired || d.access !== undefined)) {
    refuse(kind, name, `access must be "user" or "admin"`);
  }
  if (typeof d.run !== 'function') refuse(kind, name, 'run must be a function');
  if (kind === 'tool') {
    if (d.output !== undefined && !isSchema(d.output)) refuse(kind, name, 'output must be a zod schema');
    const t = d.timeoutMs;
    if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t) && t > 0 && t <= MAX_TIMER_MS)) {
      refuse(kind, name, `timeoutMs must be a positive number of milliseconds at most ${MAX_TIMER_MS}`);
    }
    const h = d.heartbeatTimeoutMs;
    if (h !== undefined && !(typeof h === 'number' && Number.isFinite(h) && h > 0 && h <= MAX_TIMER_MS)) {
      refuse(kind, name, `heartbeatTimeoutMs must be a positive number of milliseconds at most ${MAX_TIMER_MS}`);
    }
    const s = d.sensitive;
    if (s !== undefined && !(Array.isArray(s) && s.every((k) => typeof k === 'string' && k.length > 0))) {
      refuse(kind, name, 'sensitive must be an array of key names');
    }
    if (d.source !== undefined && (typeof d.source !== 'string' || !NAME_PATTERN.test(d.source))) {
      refuse(kind, name, `source must match ${NAME_PATTERN}`);
    }
    if (d.approval !== undefined && d.approval !== 'always' && typeof d.approval !== 'function') {
      refuse(kind, name, 'approval must be "always" or a function of (input, ctx)');
    }
    const a = d.approvalTimeoutMs;
    if (a !== undefined && !(typeof a === 'number' && Number.isFinite(a) && a > 0 && a <= MAX_TIMER_MS)) {
      refuse(kind, name, `approvalTimeoutMs must be a positive number of milliseconds at most ${MAX_TIMER_MS}`);
    }
    if (d.approvers !== undefined && d.approvers !== 'owner' && d.approvers !== 'admin' && d.approvers !== 'both') {
      refuse(kind, name, 'approvers must be "owner", "admin" or "both"');
    }
    const own = d.inputSchema;
    if (own !== undefined) {
      if (typeof own !== 'object' || own === null || Array.isArray(own))
        refuse(kind, name, 'inputSchema must be an object');
      // A copy, so that the registry's frozen schema cannot change under it.
      return { inputSchema: deepFreeze(structuredClone(own) as JsonValue) };
    }
  }
  try {
    return { inputSchema: deepFreeze(z.toJSONSchema(d.input, { io: 'input', unrepresentable: 'any' }) as JsonValue) };
  } catch (error) {
    return refuse(kind, name, `input has no JSON Schema: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Throws `INVALID_REGISTRY` for a second definition with the same name. */
export function refuseDuplicate(kind: 'tool' | 'agent', name: string): never {
  return refuse(kind, name, 'is defined twice');
}
