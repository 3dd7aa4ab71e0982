import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnyProcedure, AnyRouter, TRPCError } from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import type { TRPCRequestInfo } from '@trpc/server/unstable-core-do-not-import';
import {
  getAcceptHeader,
  getErrorShape,
  getTRPCErrorFromUnknown,
  isAbortError,
  isAsyncIterable,
  isObject,
  isTrackedEnvelope,
  parseConnectionParamsFromString,
  TRPCError as TRPCErrorClass,
} from '@trpc/server/unstable-core-do-not-import';

/** Which SSE writer serves subscriptions: this module's (`lean`) or tRPC's node-http handler (`trpc`). */
export type SseMode = 'lean' | 'trpc';

/** Options of {@link createLeanSseHandler}. */
export interface LeanSseOptions<TContext> {
  router: AnyRouter;
  /** The tRPC base path with its trailing slash, as given to tRPC's handler (`/trpc/`). */
  basePath: string;
  /** Builds the context exactly as the tRPC handler does, from the request and tRPC's request info. */
  createContext: (req: IncomingMessage, info: TRPCRequestInfo) => TContext | Promise<TContext>;
  onError: (opts: { error: TRPCError; path: string | undefined; type: string; req: IncomingMessage }) => void;
  /**
   * How long a stream may wait for its socket to drain before the connection is closed (its reader
   * is stuck; `EventSource` reconnects and resumes with `Last-Event-ID`). Default 30 s.
   */
  stalledAfterMs?: number;
  /** Called with a tracked message's payload right after its frame is handed to the socket (delivery latency). */
  onDelivered?: (data: unknown) => void;
  /**
   * The `data:` text of a tracked message's payload, when the caller has it cheaper than
   * serialising (`undefined`: serialise). Only for a router without a transformer: the text
   * replaces `JSON.stringify(serialize(payload))`.
   */
  encodeTracked?: (data: unknown) => string | undefined;
}

/** Default of {@link LeanSseOptions.stalledAfterMs}. */
export const DEFAULT_STALLED_AFTER_MS = 30_000;

/**
 * Serves single (unbatched) `GET` calls of subscription procedures as Server-Sent Events written
 * straight to the node response, byte for byte the frames tRPC's `sseStreamProducer` writes, without
 * the web streams between tRPC's `Response` and `res.write`. Returns a function that answers `true`
 * when it took the request and `false` when the request is for tRPC's own handler.
 */
export function createLeanSseHandler<TContext>(
  opts: LeanSseOptions<TContext>,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const config = opts.router._def._config;
  const sse = config.sse ?? {};
  const pingMs = sse.ping?.enabled === true ? (sse.ping.intervalMs ?? 1000) : 0;
  // Settings this writer does not reproduce go to tRPC's handler.
  const supported = sse.enabled !== false && sse.emitAndEndImmediately !== true && sse.maxDurationMs === undefined;
  const connectedFrame = `event: connected\ndata: ${JSON.stringify(sse.client ?? {})}\n\n\n`;
  const stalledAfterMs = opts.stalledAfterMs ?? DEFAULT_STALLED_AFTER_MS;
  const onDelivered = opts.onDelivered;
  const encodeTracked = opts.encodeTracked;

  return (req, res) => {
    if (!supported || req.method !== 'GET') return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (!pathname.startsWith(opts.basePath)) return false;
    const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    if (params.get('batch') === '1') return false;
    let path: string;
    try {
      path = decodeURIComponent(pathname.slice(opts.basePath.length));
    } catch {
      return false;
    }
    const procedure = opts.router._def.procedures[path] as AnyProcedure | undefined;
    if (procedure?._def.type !== 'subscription') return false;
    const contentType = req.headers['content-type']?.toLowerCase().split(';', 1)[0]?.trim();
    if (contentType !== undefined && contentType !== 'application/json') return false;
    const accept = getAcceptHeader(toHeaders(req));
    if (accept === 'application/jsonl') return false;
    const connectionParamsText = params.get('connectionParams');
    let connectionParams: TRPCRequestInfo['connectionParams'] = null;
    if (connectionParamsText !== null) {
      try {
        connectionParams = parseConnectionParamsFromString(connectionParamsText);
      } catch {
        return false; // tRPC answers this one itself (PARSE_ERROR before any stream)
      }
    }
    void serve(req, res, procedure, path, params, connectionParams, accept);
    return true;
  };

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    procedure: AnyProcedure,
    path: string,
    params: URLSearchParams,
    connectionParams: TRPCRequestInfo['connectionParams'],
    accept: TRPCRequestInfo['accept'],
  ): Promise<void> {
    const abort = new AbortController();
    let closed = false;
    let iterator: AsyncIterator<unknown> | undefined;
    const onClose = () => {
      closed = true;
      abort.abort();
      // A generator suspended in an await runs its return() once that await settles (the signal ends it).
      void iterator?.return?.()?.catch(() => undefined);
    };
    res.once('close', onClose);
    const lastEventIdIn = lastEventIdOf(req, params);

    let parsed: { value: unknown } | undefined;
    const getRawInput = async (): Promise<unknown> => {
      if (parsed === undefined) {
        try {
          const text = params.get('input');
          parsed = { value: text ? config.transformer.input.deserialize(JSON.parse(text)) : undefined };
        } catch (cause) {
          if (cause instanceof TRPCErrorClass) throw cause;
          throw new TRPCErrorClass({
            code: 'BAD_REQUEST',
            message: cause instanceof Error ? cause.message : 'Invalid input',
            cause,
          });
        }
      }
      let input = parsed.value;
      if (lastEventIdIn) {
        if (isObject(input)) input = { ...input, lastEventId: lastEventIdIn };
        else input ??= { lastEventId: lastEventIdIn };
      }
      return input;
    };
    const call = { batchIndex: 0, path, procedure, getRawInput, result: () => parsed?.value };
    const info: TRPCRequestInfo = {
      isBatchCall: false,
      accept,
      calls: [call],
      type: 'subscription',
      connectionParams,
      signal: abort.signal,
      url: urlOf(req),
    };

    let ctx: unknown;
    const fail = (cause: unknown): string => {
      const error = getTRPCErrorFromUnknown(cause);
      opts.onError({ error, path, type: 'subscription', req });
      const shape = getErrorShape({ config, ctx, error, input: parsed?.value, path, type: 'subscription' });
      return `event: serialized-error\ndata: ${JSON.stringify(config.transformer.output.serialize(shape))}\n\n\n`;
    };

    let iterable: AsyncIterable<unknown> | undefined;
    let early: string | undefined;
    try {
      ctx = await opts.createContext(req, info);
      const data: unknown = await procedure({
        path,
        getRawInput,
        ctx,
        type: 'subscription',
        signal: abort.signal,
        batchIndex: 0,
      });
      if (isObservable(data)) iterable = observableToAsyncIterable(data, abort.signal);
      else if (isAsyncIterable(data)) iterable = data;
      else {
        throw new TRPCErrorClass({
          code: 'INTERNAL_SERVER_ERROR',
          message: `Subscription ${path} did not return an observable or a AsyncGenerator`,
        });
      }
    } catch (cause) {
      early = fail(cause);
    }
    if (closed) {
      void iterable?.[Symbol.asyncIterator]()
        .return?.()
        ?.catch(() => undefined);
      return;
    }
    // The same status and headers as tRPC's handler (node sorts nothing; tRPC's Headers iterate sorted).
    res.statusCode = 200;
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('content-type', 'text/event-stream');
    res.setHeader('vary', 'trpc-accept, accept');
    res.setHeader('x-accel-buffering', 'no');
    res.write(connectedFrame);
    if (early !== undefined || iterable === undefined) {
      res.end(early);
      return;
    }
    await pump(res, iterable[Symbol.asyncIterator](), lastEventIdIn, abort.signal, fail, (it) => {
      iterator = it;
      return closed;
    });
    res.off('close', onClose);
    if (!closed) res.end();
  }

  async function pump(
    res: ServerResponse,
    it: AsyncIterator<unknown>,
    lastEventIdIn: string | null,
    signal: AbortSignal,
    fail: (cause: unknown) => string,
    register: (it: AsyncIterator<unknown>) => boolean,
  ): Promise<void> {
    if (register(it)) {
      void it.return?.()?.catch(() => undefined);
      return;
    }
    const serialize = config.transformer.output.serialize;
    let lastEventId = lastEventIdIn && !/[\0\n\r]/.test(lastEventIdIn) ? lastEventIdIn : null;
    // One timer for the whole stream: a ping goes out when nothing was written for pingMs.
    let lastWrite = Date.now();
    let waitingForDrain = false;
    let timer: NodeJS.Timeout | undefined;
    const schedule = (ms: number) => {
      timer = setTimeout(() => {
        const idle = Date.now() - lastWrite;
        if (idle >= pingMs && !waitingForDrain && !signal.aborted) {
          res.write('event: ping\ndata: \n\n\n');
          lastWrite = Date.now();
          schedule(pingMs);
        } else schedule(Math.max(1, pingMs - idle));
      }, ms);
      timer.unref();
    };
    if (pingMs > 0 && pingMs !== Number.POSITIVE_INFINITY) schedule(pingMs);
    try {
      for (;;) {
        const next = await it.next();
        if (signal.aborted) return;
        if (next.done === true) {
          res.write('event: return\ndata: \n\n\n');
          return;
        }
        const value: unknown = next.value;
        let frame: string;
        if (isTrackedEnvelope(value)) {
          lastEventId = value[0];
          const text = encodeTracked?.(value[1]) ?? JSON.stringify(serialize(value[1]));
          frame = `data: ${text}\nid: ${value[0]}\n\n\n`;
        } else if (lastEventId === null) {
          frame = `data: ${JSON.stringify(serialize(value))}\n\n\n`;
        } else {
          // As tRPC: clear the id for an untracked event, then restore it for reconnects.
          frame = `data: ${JSON.stringify(serialize(value))}\nid: \n\n\nevent: restore-id\ndata: \nid: ${lastEventId}\n\n\n`;
        }
        lastWrite = Date.now();
        const flowing = res.write(frame);
        if (onDelivered !== undefined && isTrackedEnvelope(value)) onDelivered(value[1]);
        if (!flowing) {
          waitingForDrain = true;
          await drained(res, stalledAfterMs);
          waitingForDrain = false;
          if (signal.aborted) return;
        }
      }
    } catch (cause) {
      if (isAbortError(cause) || signal.aborted) return;
      res.write(fail(cause));
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Resolves on `drain` or close; a socket that does not drain within `stalledAfterMs` is destroyed. */
function drained(res: ServerResponse, stalledAfterMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      resolve();
      return;
    }
    const stalled = setTimeout(() => res.destroy(), stalledAfterMs);
    const done = () => {
      clearTimeout(stalled);
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

function lastEventIdOf(req: IncomingMessage, params: URLSearchParams): string | null {
  const header = req.headers['last-event-id'];
  if (typeof header === 'string') return header;
  return params.get('lastEventId') ?? params.get('Last-Event-Id');
}

// As tRPC's node adapter builds it, for createContext's `info.url`.
function urlOf(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  } catch {
    return null;
  }
}

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  const accept = req.headers.accept;
  const trpcAccept = req.headers['trpc-accept'];
  if (accept !== undefined) headers.set('accept', accept);
  if (typeof trpcAccept === 'string') headers.set('trpc-accept', trpcAccept);
  return headers;
}
