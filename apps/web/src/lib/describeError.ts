/** A server or network error as the console shows it. */
export interface ErrorDescription {
  /** The tRPC code (`NOT_FOUND`, `FORBIDDEN`, …) when the server gave one. */
  code: string | undefined;
  message: string;
  /** Whether trying again later can help (network drops, overload), as opposed to a refusal. */
  retryable: boolean;
}

const REFUSALS = new Set([
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_SUPPORTED',
  'PARSE_ERROR',
]);

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/**
 * Turns anything thrown by the tRPC client (a `TRPCClientError` with `data.code`, a network
 * `TypeError`, a plain value) into a readable message, with the zod issues of a `BAD_REQUEST`
 * spelled out when the server sent them.
 *
 * @example
 * describeError(err).message // 'NOT_FOUND: run not found'
 */
export function describeError(error: unknown): ErrorDescription {
  const e = record(error);
  const data = record(e?.data);
  const code = typeof data?.code === 'string' ? data.code : undefined;
  const reason = typeof data?.reason === 'string' && data.reason !== code ? data.reason : undefined;
  let message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(error);
  if (message.startsWith('[') && message.endsWith(']'))
    message = formatIssues(JSON.parse(safeJson(message))) ?? message;
  else if (Array.isArray(data?.issues) && !message.startsWith('Invalid input')) {
    message = `${message}: ${formatIssues(data.issues) ?? ''}`;
  }
  if (message === 'Failed to fetch' || message === 'fetch failed') message = 'Cannot reach the server (network error).';
  const prefix = code === undefined ? '' : reason === undefined ? `${code}: ` : `${code} (${reason}): `;
  return { code, message: `${prefix}${message}`, retryable: code === undefined || !REFUSALS.has(code) };
}

function safeJson(text: string): string {
  try {
    JSON.parse(text);
    return text;
  } catch {
    return 'null';
  }
}

/** `path: message; path: message` from zod-like issues; `undefined` when `value` is not a list of them. */
function formatIssues(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  return value
    .map((issue) => {
      const i = record(issue);
      const path = Array.isArray(i?.path) ? i.path.join('.') : typeof i?.path === 'string' ? i.path : '';
      return `${path === '' ? '(input)' : path}: ${String(i?.message ?? 'invalid')}`;
    })
    .join('; ');
}
