import { request } from 'node:http';
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
  const req = request(`${url}/trpc/${path}?${query}`, { agent: false, headers: { accept: 'text/event-stream' } });
  req.on('response', (res) => {
    if (res.statusCode !== 200) {
      handlers.onError(new Error(`SSE answered ${res.statusCode}`));
      res.resume();
      return;
    }
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      const readAt = epochMs();
      buffer += chunk;
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const frame = buffer.slice(0, end);
        // tRPC ends each frame with three newlines; the third starts the next block, empty.
        buffer = buffer.slice(end + 2);
        if (frame !== '' && frame !== '\n') handleFrame(frame.startsWith('\n') ? frame.slice(1) : frame, readAt);
        end = buffer.indexOf('\n\n');
      }
    });
    res.on('end', () => {
      if (!ended) handlers.onComplete();
    });
  });
  req.on('error', (error) => {
    if (!ended) handlers.onError(error);
  });
  req.end();

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
      req.destroy();
    },
  };
}
