import { request } from 'node:http';
import type { RunEvent } from '@toolrun/api';
import WebSocket from 'ws';

/** A subscription opened without the tRPC client, so the test controls when it reads. */
export interface RawStream {
  /** Events received so far, in order. */
  readonly events: RunEvent[];
  /** The tracked id of the last complete message. */
  lastEventId(): string | undefined;
  /** Error payloads the server sent (tRPC error shapes). */
  readonly errors: unknown[];
  /** How the stream ended, once it has: the server completed it, or the connection closed. */
  ended(): 'open' | 'completed' | 'closed';
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  /** The client side's local port: the server's socket for it has this remote port. */
  readonly localPort: number;
  /** Stops reading from the socket: the kernel buffers fill, then the server's writes back up. */
  pause(): void;
  resume(): void;
  close(): void;
}

/** What to subscribe to. */
export interface RawSubscription {
  baseUrl: string;
  path: 'runs.events' | 'runs.feed';
  input: Record<string, unknown>;
  token: string;
}

/** Opens an SSE subscription with node:http (`GET /trpc/<path>?input=…&connectionParams=…`). */
export function openRawSse(opts: RawSubscription): Promise<RawStream> {
  const query = new URLSearchParams({
    input: JSON.stringify(opts.input),
    connectionParams: JSON.stringify({ token: opts.token }),
  });
  return new Promise((resolve, reject) => {
    const events: RunEvent[] = [];
    const errors: unknown[] = [];
    let lastId: string | undefined;
    let state: 'open' | 'completed' | 'closed' = 'open';
    let closeResolve: () => void = () => {};
    const closed = new Promise<void>((r) => {
      closeResolve = r;
    });
    const req = request(`${opts.baseUrl}/trpc/${opts.path}?${query}`, {
      agent: false,
      headers: { accept: 'text/event-stream' },
    });
    req.once('error', (error) => {
      if (state === 'open') state = 'closed';
      closeResolve();
      reject(error);
    });
    req.once('response', (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = parseFrame(frame);
          if (fields.event === 'serialized-error') errors.push(JSON.parse(fields.data));
          else if (fields.event === 'return') state = 'completed';
          else if (fields.event === undefined && fields.data !== '') {
            events.push(...(JSON.parse(fields.data) as RunEvent[]));
            if (fields.id !== undefined) lastId = fields.id;
          }
        }
      });
      const end = () => {
        if (state === 'open') state = 'closed';
        closeResolve();
      };
      res.once('close', end);
      res.once('error', end);
      const socket = res.socket;
      resolve({
        events,
        errors,
        lastEventId: () => lastId,
        ended: () => state,
        closed,
        localPort: socket.localPort ?? 0,
        pause: () => res.pause(),
        resume: () => res.resume(),
        close: () => req.destroy(),
      });
    });
    req.end();
  });
}

function parseFrame(frame: string): { event: string | undefined; id: string | undefined; data: string } {
  let event: string | undefined;
  let id: string | undefined;
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'event') event = value;
    else if (name === 'id') id = value;
    else if (name === 'data') data.push(value);
  }
  return { event, id, data: data.join('\n') };
}

/** Opens a WebSocket subscription with `ws` (connection params as the first message, then the subscription). */
export function openRawWs(opts: RawSubscription): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const events: RunEvent[] = [];
    const errors: unknown[] = [];
    let lastId: string | undefined;
    let state: 'open' | 'completed' | 'closed' = 'open';
    const ws = new WebSocket(`${opts.baseUrl.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
    const closed = new Promise<void>((r) =>
      ws.once('close', () => {
        if (state === 'open') state = 'closed';
        r();
      }),
    );
    ws.once('error', reject);
    ws.on('message', (raw) => {
      const text = String(raw);
      if (text === 'PING') {
        ws.send('PONG');
        return;
      }
      const message = JSON.parse(text) as {
        error?: unknown;
        result?: { type: string; data?: { id?: string; data: RunEvent[] } };
      };
      if (message.error !== undefined) errors.push(message.error);
      else if (message.result?.type === 'data' && message.result.data !== undefined) {
        events.push(...message.result.data.data);
        if (message.result.data.id !== undefined) lastId = message.result.data.id;
      } else if (message.result?.type === 'stopped') state = 'completed';
    });
    ws.once('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token: opts.token } }));
      ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: opts.path, input: opts.input } }));
      // biome-ignore lint/complexity/useLiteralKeys: ws keeps its socket in a private field; the port identifies it on the server.
      const socket = (ws as unknown as { ['_socket']?: { localPort?: number } })['_socket'];
      resolve({
        events,
        errors,
        lastEventId: () => lastId,
        ended: () => state,
        closed,
        localPort: socket?.localPort ?? 0,
        pause: () => ws.pause(),
        resume: () => ws.resume(),
        close: () => ws.terminate(),
      });
    });
  });
}
