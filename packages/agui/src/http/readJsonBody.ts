import type { IncomingMessage } from 'node:http';
import type { Refusal } from '../input/readRunAgentInput.ts';

/**
 * Reads a request's JSON body, at most `maxBytes` of it: `413` past that (the rest is not read),
 * `415` for a body that is not `application/json`, `400` for malformed JSON (with the parser's reason).
 */
export async function readJsonBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<{ body: unknown } | { refusal: Refusal }> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return { refusal: { status: 415, message: 'the body must be JSON (Content-Type: application/json)' } };
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = { refusal: { status: 413, message: `the body must be at most ${maxBytes} bytes` } };
  if (declared > maxBytes) return tooLarge;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) return tooLarge;
      chunks.push(chunk);
    }
  } catch {
    return { refusal: { status: 400, message: 'the body could not be read to its end' } };
  }
  try {
    return { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { refusal: { status: 400, message: `the body is not valid JSON: ${reason.slice(0, 200)}` } };
  }
}
