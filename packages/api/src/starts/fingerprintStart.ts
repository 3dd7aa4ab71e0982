import { createHash } from 'node:crypto';

/**
 * A hash of what a start asks for: agent, input and thread (absent is its own value). Two starts
 * with one idempotency key must have the same fingerprint; object keys are sorted first, so the
 * same input written in another key order is the same start.
 */
export function fingerprintStart(start: { agent: string; input: unknown; threadId: string | undefined }): string {
  const text = canonicalJson([start.agent, start.input, start.threadId ?? null]);
  return createHash('sha256').update(text).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
