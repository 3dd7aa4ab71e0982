import type { ErrorShape, ProcedureInfo } from './hostile.ts';

/** One HTTP answer of the tRPC endpoint, reduced to what the checks need. */
export interface RawAnswer {
  status: number;
  /** The body as text (for an SSE stream: what arrived before it was closed). */
  text: string;
  /** The tRPC errors it carries: the body's `error`, a batch's errors, or an SSE stream's `serialized-error` events. */
  errors: ErrorShape[];
}

// How long an SSE answer is read before the client closes it (a valid subscription never ends by itself).
const SSE_READ_MS = 250;

/**
 * Calls a procedure with a raw body, the way a hostile client would: queries and subscriptions as
 * `GET /trpc/<path>?input=<body>`, mutations as `POST` with the body as is; `batch` wraps it as
 * the batch form (`?batch=1`, `{"0": body}`). No client library in between: nothing is validated
 * or encoded before it reaches the server.
 */
export async function rawCall(opts: {
  baseUrl: string;
  procedure: ProcedureInfo;
  body: string;
  token?: string | undefined;
  batch?: boolean;
  method?: string;
  contentType?: string;
  /** More query parameters (`connectionParams`, `lastEventId`). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
}): Promise<RawAnswer> {
  const { procedure, batch = false } = opts;
  const body = batch ? `{"0":${opts.body}}` : opts.body;
  const method = opts.method ?? (procedure.type === 'mutation' ? 'POST' : 'GET');
  const query = new URLSearchParams(batch ? { batch: '1' } : {});
  if (method === 'GET') query.set('input', body);
  for (const [name, value] of Object.entries(opts.query ?? {})) query.set(name, value);
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (method !== 'GET') headers['content-type'] = opts.contentType ?? 'application/json';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    const res = await fetch(`${opts.baseUrl}/trpc/${procedure.path}?${query}`, {
      method,
      headers,
      ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
      signal: controller.signal,
    });
    const isStream = (res.headers.get('content-type') ?? '').includes('text/event-stream');
    const text = isStream ? await readSse(res, controller) : await res.text();
    return { status: res.status, text, errors: isStream ? sseErrors(text) : jsonErrors(text) };
  } finally {
    clearTimeout(timer);
  }
}

async function readSse(res: Response, controller: AbortController): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const decoder = new TextDecoder();
  let text = '';
  const until = Date.now() + SSE_READ_MS;
  try {
    while (Date.now() < until && !text.includes('event: serialized-error') && !text.includes('event: return')) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), Math.max(1, until - Date.now()))),
      ]);
      if (chunk === undefined || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    controller.abort();
    await reader.cancel().catch(() => {});
  }
  return text;
}

function sseErrors(text: string): ErrorShape[] {
  const out: ErrorShape[] = [];
  for (const frame of text.split('\n\n')) {
    if (!frame.includes('event: serialized-error')) continue;
    const data = frame
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    out.push(parse(data) as ErrorShape);
  }
  return out;
}

function jsonErrors(text: string): ErrorShape[] {
  if (text === '') return [];
  const value = parse(text);
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((item) =>
    item !== null && typeof item === 'object' && 'error' in item ? [(item as { error: ErrorShape }).error] : [],
  );
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: undefined, data: { httpStatus: 'unparsable body', code: text.slice(0, 80) } };
  }
}
