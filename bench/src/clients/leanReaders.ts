import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { RunEvent } from '@toolrun/api';
import WebSocket from 'ws';
import { epochMs } from '../servers/payload.ts';
import type { StreamUser } from '../servers/protocol.ts';
import type { OpenSubscription, SubscriptionHandlers, SubscriptionTarget } from './transports.ts';

/**
 * A subscription reader that is not the bottleneck: the same wire formats the tRPC clients read
 * (tRPC's WebSocket JSON-RPC messages; tRPC's SSE frames), parsed with one `JSON.parse` per
 * message and nothing else: no observables, no web streams, no `EventSource` polyfill, no
 * reconnection (a bench stream that breaks is an error, reported). `readAt` is the epoch time the
 * bytes were read from the socket, before any parsing, so the client's own work is measured apart.
 */
export function subscribeLean(opts: {
  protocol: 'ws' | 'sse';
  url: string;
  user: StreamUser;
  target: SubscriptionTarget;
  handlers: SubscriptionHandlers;
}): OpenSubscription {
  const call: LeanCall = {
    url: opts.url,
    path: opts.target === 'run' ? 'runs.events' : 'runs.feed',
    input: opts.target === 'run' ? { runId: opts.user.runId } : {},
    token: opts.user.token,
    handlers: opts.handlers,
  };
  return opts.protocol === 'ws' ? leanWs(call) : leanSse(call);
}

/** One subscription call: the procedure, its input, the caller's token and where messages go. */
interface LeanCall {
  url: string;
  path: string;
  input: object;
  token: string;
  handlers: SubscriptionHandlers;
}

/** tRPC's WebSocket protocol: connection params first, one `subscription` request, JSON-RPC replies. */
function leanWs({ url, path, input, token, handlers }: LeanCall): OpenSubscription {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
  socket.on('open', () => {
    socket.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
    socket.send(JSON.stringify({ id: 1, method: 'subscription', params: { path, input } }));
  });
  socket.on('message', (data: Buffer) => {
    const readAt = epochMs();
    const text = data.toString('utf8');
    if (text === 'PING') {
      socket.send('PONG');
      return;
    }
    if (text === 'PONG') return;
    const message = JSON.parse(text) as {
      id: number | null;
      result?: { type: 'started' | 'stopped' | 'data'; data?: { id: string; data: RunEvent[] } };
      error?: { message?: string };
    };
    if (message.error !== undefined) {
      handlers.onError(new Error(message.error.message ?? 'subscription error'));
      return;
    }
    switch (message.result?.type) {
      case 'started':
        handlers.onStarted();
        return;
      case 'data':
        handlers.onMessage(message.result.data?.data ?? [], readAt);
        return;
      case 'stopped':
        handlers.onComplete();
        return;
      default:
        // A reconnect notice (`method: 'reconnect'`) or something unknown: not part of a bench stream.
        return;
    }
  });
  socket.on('error', (error) => handlers.onError(error));
  return { close: () => socket.terminate() };
}

/** tRPC's SSE frames: `data:` (and `id:`) lines of one JSON message each, `event:` for the rest. */
function leanSse({ url, path, input, token, handlers }: LeanCall): OpenSubscription {
  const query =
    `input=${encodeURIComponent(JSON.stringify(input))}` +
    `&connectionParams=${encodeURIComponent(JSON.stringify({ token }))}`;
  let ended = false;
  const onFrames = (text: string, readAt: number) => {
    buffer += text;
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const frame = buffer.slice(0, end);
      // tRPC ends each frame with three newlines; the third starts the next block, empty.
      buffer = buffer.slice(end + 2);
      if (frame !== '' && frame !== '\n') handleFrame(frame.startsWith('\n') ? frame.slice(1) : frame, readAt);
      end = buffer.indexOf('\n\n');
    }
  };
  let buffer = '';
  const socket = httpStream(`${url}/trpc/${path}?${query}`, {
    onStatus(status) {
      if (status === 200) return true;
      handlers.onError(new Error(`SSE answered ${status}`));
      return false;
    },
    onText: onFrames,
    onEnd() {
      if (!ended) handlers.onComplete();
    },
    onError(error) {
      if (!ended) handlers.onError(error);
    },
  });

  function handleFrame(frame: string, readAt: number): void {
    let event = 'message';
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('data: ')) data = line.slice(6);
      else if (line.startsWith('event: ')) event = line.slice(7);
    }
    switch (event) {
      case 'message':
        handlers.onMessage(JSON.parse(data) as RunEvent[], readAt);
        return;
      case 'connected':
        handlers.onStarted();
        return;
      case 'return':
        ended = true;
        handlers.onComplete();
        return;
      case 'serialized-error':
        ended = true;
        handlers.onError(new Error(`subscription error: ${data}`));
        return;
      default:
        // `ping`, `restore-id`: nothing to deliver.
        return;
    }
  }

  return {
    close: () => {
      ended = true;
      socket.destroy();
    },
  };
}

/**
 * A `GET` whose chunked body is read straight off a TCP socket: the status line, the headers
 * skipped, then each chunk's bytes decoded as UTF-8 and handed to `onText` with the time they were
 * read. Node's HTTP client costs the bench's SSE client process about 1.5× wsLink's CPU per event
 * (`IncomingMessage` streams, the parser's callbacks) on the cores the server needs (issue 21);
 * this reads the same bytes with a few `indexOf`s. `Connection: close`, one request per socket.
 */
function httpStream(
  target: string,
  on: {
    onStatus(status: number): boolean;
    onText(text: string, readAt: number): void;
    onEnd(): void;
    onError(error: Error): void;
  },
): Socket {
  const { hostname, port, pathname, search } = new URL(target);
  const socket = connect({ host: hostname, port: Number(port), noDelay: true });
  socket.write(
    `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n`,
  );
  const decoder = new StringDecoder('utf8');
  let head: Buffer | undefined = Buffer.alloc(0);
  let sizeLine = '';
  let left = 0; // bytes left in the current chunk
  let skip = 0; // bytes of the CRLF after a chunk still to skip
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    on.onEnd();
    socket.destroy();
  };
  socket.on('data', (bytes: Buffer) => {
    const readAt = epochMs();
    let data = bytes;
    if (head !== undefined) {
      head = Buffer.concat([head, data]);
      const endOfHead = head.indexOf('\r\n\r\n');
      if (endOfHead === -1) return;
      const status = Number(head.toString('latin1', 0, endOfHead).split(' ', 2)[1]);
      data = head.subarray(endOfHead + 4);
      head = undefined;
      if (!on.onStatus(status)) {
        done = true;
        socket.destroy();
        return;
      }
    }
    let text = '';
    let i = 0;
    while (i < data.length && !done) {
      if (skip > 0) {
        const n = Math.min(skip, data.length - i);
        skip -= n;
        i += n;
      } else if (left > 0) {
        const n = Math.min(left, data.length - i);
        text += decoder.write(data.subarray(i, i + n));
        left -= n;
        i += n;
        if (left === 0) skip = 2;
      } else {
        const newline = data.indexOf(10, i);
        if (newline === -1) {
          sizeLine += data.toString('latin1', i);
          break;
        }
        sizeLine += data.toString('latin1', i, newline);
        i = newline + 1;
        left = Number.parseInt(sizeLine, 16);
        sizeLine = '';
        if (left === 0) {
          if (text !== '') on.onText(text, readAt);
          text = '';
          finish();
        }
      }
    }
    if (text !== '') on.onText(text, readAt);
  });
  socket.on('end', finish);
  socket.on('error', (error) => {
    if (!done) on.onError(error);
    done = true;
  });
  return socket;
}
