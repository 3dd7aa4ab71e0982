import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunEvent } from '@toolrun/api';
import { afterEach, describe, expect, it } from 'vitest';
import { subscribeLean } from './leanReaders.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A real HTTP server answering every request with `writes` as chunks (tRPC's SSE frames, split anywhere). */
async function sseServer(writes: readonly Buffer[], seen: IncomingMessage[] = []): Promise<string> {
  const server = createServer((req, res) => {
    seen.push(req);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    // One chunk per event-loop turn, so that the reader gets them in separate reads.
    const next = () => {
      const chunk = writes[i++];
      if (chunk === undefined) {
        res.end();
        return;
      }
      res.write(chunk);
      setTimeout(next, 1);
    };
    next();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function read(url: string): Promise<{ log: string[]; messages: RunEvent[][] }> {
  const log: string[] = [];
  const messages: RunEvent[][] = [];
  return new Promise((resolve, reject) => {
    subscribeLean({
      protocol: 'sse',
      url,
      user: { userId: 'u', token: 't0k', runId: 'r1' },
      target: 'run',
      handlers: {
        onStarted: () => log.push('started'),
        onMessage: (events, readAt) => {
          log.push(`message at ${typeof readAt}`);
          messages.push([...events]);
        },
        onError: reject,
        onComplete: () => {
          log.push('complete');
          resolve({ log, messages });
        },
      },
    });
  });
}

describe('the lean SSE reader', () => {
  it("reads tRPC's frames from a chunked body however the chunks split them, UTF-8 included", async () => {
    const thinking = { type: 'agent_thinking', text: 'déjà vu ✓' };
    const body = Buffer.from(
      `event: connected\ndata: {}\n\n\ndata: [${JSON.stringify(thinking)}]\nid: r1:1\n\n\nevent: ping\ndata: \n\n\n` +
        `data: [${JSON.stringify({ ...thinking, text: 'two' })}]\nid: r1:2\n\n\nevent: return\ndata: \n\n\n`,
    );
    // Split inside 'é' (two bytes), inside a frame's blank lines and anywhere else.
    const cut = body.indexOf(Buffer.from('é')) + 1;
    const seen: IncomingMessage[] = [];
    const url = await sseServer(
      [body.subarray(0, 7), body.subarray(7, cut), body.subarray(cut, cut + 60), body.subarray(cut + 60)],
      seen,
    );
    const { log, messages } = await read(url);
    expect(log).toEqual(['started', 'message at number', 'message at number', 'complete']);
    expect(messages).toEqual([[thinking], [{ ...thinking, text: 'two' }]]);
    // The request tRPC's SSE link makes: the procedure, its input and the token as connection params.
    const request = new URL(seen[0]?.url ?? '', url);
    expect(request.pathname).toBe('/trpc/runs.events');
    expect(request.searchParams.get('input')).toBe('{"runId":"r1"}');
    expect(request.searchParams.get('connectionParams')).toBe('{"token":"t0k"}');
    expect(seen[0]?.headers.accept).toBe('text/event-stream');
  });

  it('reports a refusal by its status', async () => {
    const server = createServer((_req, res) => res.writeHead(401).end('no'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await expect(read(url)).rejects.toThrow('SSE answered 401');
  });
});
