import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received. */
export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: {
    model?: string;
    stream?: boolean;
    messages?: { role: string; content?: string | null; tool_call_id?: string; tool_calls?: unknown[] }[];
    tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
  };
}

/** How the server answers request number `index` (0-based). */
export type Responder = (res: ServerResponse, request: RecordedRequest, index: number) => void;

/**
 * A real HTTP server on 127.0.0.1:0 that speaks the Chat Completions streaming protocol
 * (`text/event-stream`, `data: {chunk}` lines, `data: [DONE]`), scripted per request. No model can
 * run on these machines, so this is the model server; everything between it and the agent (the
 * `openai` client, fetch, SSE parsing) is real.
 */
export async function startChatCompletionsServer(responders: readonly Responder[]) {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (part: string) => {
      raw += part;
    });
    req.on('end', () => {
      const request: RecordedRequest = {
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: raw.length > 0 ? (JSON.parse(raw) as RecordedRequest['body']) : {},
      };
      const index = requests.length;
      requests.push(request);
      const respond = responders[Math.min(index, responders.length - 1)];
      if (respond === undefined) {
        res.writeHead(500).end();
        return;
      }
      respond(res, request, index);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    async close(): Promise<void> {
      // Hanging responses would keep close() waiting for ever.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let chunkId = 0;

/** One `chat.completion.chunk` with a single choice. */
export function chunk(delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> {
  chunkId += 1;
  return {
    id: `chatcmpl-${chunkId}`,
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

/** Text deltas, split at every word, ending with `finish_reason: stop`. */
export function textChunks(text: string): Record<string, unknown>[] {
  const words = text.match(/\S+\s*/g) ?? [];
  return [
    chunk({ role: 'assistant', content: '' }),
    ...words.map((word) => chunk({ content: word })),
    chunk({}, 'stop'),
  ];
}

/** A responder that streams `chunks` as server-sent events, then `data: [DONE]`. */
export function streams(chunks: readonly Record<string, unknown>[]): Responder {
  return (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const part of chunks) res.write(`data: ${JSON.stringify(part)}\n\n`);
    res.end('data: [DONE]\n\n');
  };
}

/** A responder that answers with an HTTP error status and an OpenAI-style error body. */
export function fails(status: number, message: string): Responder {
  return (res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message, type: 'test_error', code: null } }));
  };
}

/** A responder that never answers. */
export const hangs: Responder = () => {};

/** A responder that sends the headers and a first chunk, then stalls for ever. */
export const stallsMidStream: Responder = (res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(`data: ${JSON.stringify(chunk({ role: 'assistant', content: 'Thinking about' }))}\n\n`);
};
