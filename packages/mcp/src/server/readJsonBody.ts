import type { IncomingMessage } from 'node:http';

/** A body read by {@link readJsonBody}, or why it was refused (an HTTP status and a readable message). */
export type JsonBody =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly status: 400 | 413; readonly message: string };

/**
 * Reads a request body of at most `maxBytes` and parses it as JSON. A declared `Content-Length` over
 * the limit is refused before a byte is read; a body that grows past it while streaming stops being
 * read at the limit. Never rejects: a dropped connection reads as a malformed body.
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<JsonBody> {
  const tooLarge = { ok: false, status: 413, message: `the body is over ${maxBytes} bytes` } as const;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(tooLarge);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (body: JsonBody) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        settle(tooLarge);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('error', () => settle({ ok: false, status: 400, message: 'the body could not be read' }));
    req.once('aborted', () => settle({ ok: false, status: 400, message: 'the body could not be read' }));
    req.once('end', () => {
      try {
        settle({ ok: true, value: JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as unknown });
      } catch (error) {
        const reason = error instanceof Error ? error.message : 'not JSON';
        settle({ ok: false, status: 400, message: `the body is not valid JSON: ${reason}` });
      }
    });
  });
}
