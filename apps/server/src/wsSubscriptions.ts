import type { IncomingMessage } from 'node:http';
import type { AnyRouter, TRPCError } from '@trpc/server';
import { createURL } from '@trpc/server/adapters/node-http';
import type { CreateWSSContextFnOptions } from '@trpc/server/adapters/ws';
import { handleKeepAlive } from '@trpc/server/adapters/ws';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import type { TRPCClientOutgoingMessage, TRPCResponseMessage } from '@trpc/server/rpc';
import { parseTRPCMessage } from '@trpc/server/rpc';
import type { TRPCRequestInfo } from '@trpc/server/unstable-core-do-not-import';
import {
  callProcedure,
  getErrorShape,
  getTRPCErrorFromUnknown,
  isAsyncIterable,
  isObject,
  isTrackedEnvelope,
  parseConnectionParamsFromUnknown,
  TRPCError as TRPCErrorClass,
  transformTRPCResponse,
} from '@trpc/server/unstable-core-do-not-import';
import type { WebSocket, WebSocketServer } from 'ws';

/** Who serves WebSocket connections: this module (`lean`, the default) or tRPC's `applyWSSHandler` (`trpc`). */
export type WsMode = 'lean' | 'trpc';

/** What a procedure's failure is reported with (the fields of tRPC's `onError`). */
export interface WsErrorReport {
  error: TRPCError;
  path: string | undefined;
  type: string;
  req: IncomingMessage;
  ctx: unknown;
  input: unknown;
}

/** Options of {@link applyLeanWsHandler}. */
export interface LeanWsOptions<TContext> {
  wss: WebSocketServer;
  router: AnyRouter;
  /** Called as tRPC's adapter calls it: once per connection, with its `connectionParams` when expected. */
  createContext: (opts: CreateWSSContextFnOptions) => Promise<TContext>;
  onError: (report: WsErrorReport) => void;
  keepAlive?: { pingMs: number; pongWaitMs: number };
  /**
   * The text of a tracked subscription message (see `trackedFrame` in `wsEncoder.ts`), when the caller
   * has it cheaper than serialising; `undefined`: serialised here. Only for a router without a transformer.
   */
  trackedFrame?: (id: number | string, jsonrpc: unknown, eventId: string, data: unknown[]) => string | undefined;
  /** Called with a tracked message's payload right after its text is handed to the socket (delivery latency). */
  onDelivered?: (data: unknown[]) => void;
}

const OPEN = 1; // WebSocket.OPEN, without importing ws's runtime here

/**
 * tRPC's WebSocket connection handler (`applyWSSHandler` of `@trpc/server/adapters/ws`, 11.22),
 * message for message and byte for byte, with one difference: a subscription's values are pulled
 * with one `await iterator.next()` each and written at once, where tRPC races every `next()`
 * against the subscription's abort (`Unpromise.race`, a subscription and two promises per
 * message), wraps it in a `catch`, and copies the response twice before serialising it. A
 * subscription's abort (`subscription.stop`, the socket closing) reaches its procedure through
 * `signal`, which ends Toolrun's streams; its pending value is then dropped, as tRPC drops it.
 * Tracked messages are written from `trackedFrame` when given. Every other message, and the
 * context, `connectionParams`, keep-alive and error handling, are tRPC's.
 */
export function applyLeanWsHandler<TContext>(opts: LeanWsOptions<TContext>): {
  broadcastReconnectNotification(): void;
} {
  const config = opts.router._def._config;
  const { transformer } = config;
  const { trackedFrame, onDelivered } = opts;

  const onConnection = (client: WebSocket, req: IncomingMessage) => {
    const subscriptions = new Map<number | string, AbortController>();
    const connection = new AbortController();
    if (opts.keepAlive !== undefined) handleKeepAlive(client, opts.keepAlive.pingMs, opts.keepAlive.pongWaitMs);
    let ctx: TContext | undefined;

    // As tRPC builds them; `jsonrpc` undefined is left out of the text, as tRPC's `JSON.stringify` leaves it.
    const respond = (message: OutMessage) =>
      client.send(JSON.stringify(transformTRPCResponse(config, message as TRPCResponseMessage)));
    const fail = (id: number | string | null, jsonrpc: '2.0' | undefined, error: TRPCError, at: Where) => {
      opts.onError({ error, path: at.path, type: at.type, ctx, req, input: at.input });
      respond({
        id,
        jsonrpc,
        error: getErrorShape({ config, error, type: at.type, path: at.path, input: at.input, ctx }),
      });
    };

    const createCtx = async (
      connectionParams: () => TRPCRequestInfo['connectionParams'],
    ): Promise<{ ok: true } | { ok: false; error: TRPCError }> => {
      try {
        ctx = await opts.createContext({
          req,
          res: client,
          info: {
            connectionParams: connectionParams(),
            calls: [],
            isBatchCall: false,
            accept: null,
            type: 'unknown',
            signal: connection.signal,
            url: null,
          },
        });
        return { ok: true };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        fail(null, undefined, error, UNKNOWN);
        setImmediate(() => client.close());
        return { ok: false, error };
      }
    };
    // Created now, or from the first message when the client sends `connectionParams`.
    let ctxPromise = createURL(req).searchParams.get('connectionParams') === '1' ? null : createCtx(() => null);

    const handleRequest = (msg: TRPCClientOutgoingMessage, batchIndex: number) => {
      const { id, jsonrpc } = msg;
      if (id === null) {
        fail(id, jsonrpc, new TRPCErrorClass({ code: 'PARSE_ERROR', message: '`id` is required' }), UNKNOWN);
        return;
      }
      if (msg.method === 'subscription.stop') {
        subscriptions.get(id)?.abort();
        return;
      }
      const { path, lastEventId } = msg.params;
      let { input } = msg.params;
      const type = msg.method;
      if (lastEventId !== undefined) {
        if (isObject(input)) input = { ...input, lastEventId };
        else input ??= { lastEventId };
      }
      const at: Where = { path, type, input };
      void (async () => {
        const started = await (ctxPromise as Promise<{ ok: true } | { ok: false; error: TRPCError }>);
        if (!started.ok) throw started.error;
        const abort = new AbortController();
        const result = await callProcedure({
          router: opts.router,
          path,
          getRawInput: async () => input,
          ctx,
          type,
          signal: abort.signal,
          batchIndex,
        });
        const iterable = isAsyncIterable(result) || isObservable(result);
        if (type !== 'subscription') {
          if (iterable) {
            throw new TRPCErrorClass({
              code: 'UNSUPPORTED_MEDIA_TYPE',
              message: `Cannot return an async iterable or observable from a ${type} procedure with WebSockets`,
            });
          }
          respond({ id, jsonrpc, result: { type: 'data', data: result } });
          return;
        }
        if (!iterable) {
          throw new TRPCErrorClass({
            message: `Subscription ${path} did not return an observable or a AsyncGenerator`,
            code: 'INTERNAL_SERVER_ERROR',
          });
        }
        // The client left while the subscription was being set up: nothing to tell it.
        if (client.readyState !== OPEN) return;
        if (subscriptions.has(id)) throw new TRPCErrorClass({ message: `Duplicate id ${id}`, code: 'BAD_REQUEST' });
        const values = isObservable(result) ? observableToAsyncIterable(result, abort.signal) : result;
        const iterator = values[Symbol.asyncIterator]();
        pump(iterator, id, jsonrpc, abort.signal, at).catch((cause: unknown) => {
          subscriptions.delete(id);
          fail(id, jsonrpc, getTRPCErrorFromUnknown(cause), at);
          abort.abort();
        });
        subscriptions.set(id, abort);
        respond({ id, jsonrpc, result: { type: 'started' } });
      })().catch((cause: unknown) => fail(id, jsonrpc, getTRPCErrorFromUnknown(cause), at));
    };

    /** Writes a subscription's values as they come, then `stopped` (after an error too, as tRPC does). */
    const pump = async (
      iterator: AsyncIterator<unknown>,
      id: number | string,
      jsonrpc: '2.0' | undefined,
      signal: AbortSignal,
      at: Where,
    ): Promise<void> => {
      let open = true;
      try {
        for (;;) {
          let next: IteratorResult<unknown>;
          try {
            next = await iterator.next();
          } catch (cause) {
            open = false;
            fail(id, jsonrpc, getTRPCErrorFromUnknown(cause), at);
            break;
          }
          if (signal.aborted) break;
          if (next.done === true) {
            open = false;
            break;
          }
          send(id, jsonrpc, next.value);
        }
      } finally {
        if (open) await iterator.return?.();
      }
      respond({ id, jsonrpc, result: { type: 'stopped' } });
      subscriptions.delete(id);
    };

    const send = (id: number | string, jsonrpc: '2.0' | undefined, value: unknown) => {
      if (!isTrackedEnvelope(value)) {
        respond({ id, jsonrpc, result: { type: 'data', data: value } });
        return;
      }
      const [eventId, data] = value;
      const events = Array.isArray(data) ? (data as unknown[]) : undefined;
      const text = events === undefined ? undefined : trackedFrame?.(id, jsonrpc, eventId, events);
      if (text === undefined) {
        // tRPC's key order: the result is built as `{ type, data }` and given its `id` afterwards.
        respond({ id, jsonrpc, result: { type: 'data', data: { id: eventId, data }, id: eventId } });
      } else client.send(text);
      if (events !== undefined) onDelivered?.(events);
    };

    client.on('message', (rawData, isBinary) => {
      let text: string | undefined;
      if (!isBinary) {
        text = rawData.toString();
        if (text === 'PONG') return;
        if (text === 'PING') {
          client.send('PONG');
          return;
        }
      }
      if (!Buffer.isBuffer(rawData)) {
        const error = new TRPCErrorClass({
          code: 'UNPROCESSABLE_CONTENT',
          message: 'Unexpected WebSocket message format',
        });
        respond({ id: null, jsonrpc: undefined, error: getErrorShape({ config, error, ...UNKNOWN, ctx }) });
        return;
      }
      if (ctxPromise === null) {
        // The first message carries the connection's params.
        ctxPromise = createCtx(() => {
          let msg: unknown;
          try {
            msg = decode(text);
            if (!isObject(msg)) throw new Error('Message was not an object');
          } catch (cause) {
            throw new TRPCErrorClass({ code: 'PARSE_ERROR', message: 'Malformed TRPCConnectionParamsMessage', cause });
          }
          return parseConnectionParamsFromUnknown(msg.data);
        });
        return;
      }
      let messages: TRPCClientOutgoingMessage[];
      try {
        const json = decode(text);
        messages = (Array.isArray(json) ? json : [json]).map((raw) => parseTRPCMessage(raw, transformer));
      } catch (cause) {
        const error = new TRPCErrorClass({ code: 'PARSE_ERROR', cause });
        respond({ id: null, jsonrpc: undefined, error: getErrorShape({ config, error, ...UNKNOWN, ctx }) });
        return;
      }
      messages.forEach(handleRequest);
    });
    // An error event left unhandled would crash the process (a broken frame, for one).
    client.on('error', (cause) => {
      opts.onError({ error: getTRPCErrorFromUnknown(cause), ...UNKNOWN, ctx, req });
    });
    client.once('close', () => {
      for (const subscription of subscriptions.values()) subscription.abort();
      subscriptions.clear();
      connection.abort();
    });
  };

  opts.wss.on('connection', onConnection);
  return {
    broadcastReconnectNotification() {
      const text = JSON.stringify({ id: null, method: 'reconnect' });
      for (const client of opts.wss.clients) if (client.readyState === OPEN) client.send(text);
    },
  };
}

interface OutMessage {
  id: number | string | null;
  jsonrpc: '2.0' | undefined;
  result?: { type: 'data'; data: unknown; id?: string } | { type: 'started' | 'stopped' };
  error?: unknown;
}

interface Where {
  path: string | undefined;
  type: 'query' | 'mutation' | 'subscription' | 'unknown';
  input: unknown;
}

const UNKNOWN: Where = { path: undefined, type: 'unknown', input: undefined };

/** `decode` of the server's encoder for tRPC's adapter (`wsEncoder.ts`): text frames only. */
function decode(text: string | undefined): unknown {
  if (text === undefined) throw new Error('expected a JSON text frame');
  return JSON.parse(text);
}
