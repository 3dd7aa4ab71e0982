import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal, ToolrunServices } from '@toolrun/api';
import { createContext, findRun, startRun, toTRPCError } from '@toolrun/api';
import { MAX_ID_LENGTH, parseEventId } from '@toolrun/dispatcher';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { agentInputFor } from '../input/agentInputFor.ts';
import type { Refusal } from '../input/readRunAgentInput.ts';
import { readRunAgentInput } from '../input/readRunAgentInput.ts';
import { AguiEventMapper } from '../mapping/AguiEventMapper.ts';
import { mapperAt } from '../reattach/mapperAt.ts';
import { pipeRun } from './pipeRun.ts';
import { readJsonBody } from './readJsonBody.ts';
import { SseStream } from './SseStream.ts';

/** Where the endpoint is mounted. */
export const AGUI_PATH = '/agui';

/** Default of {@link AguiHandlerOptions.cancelAfterCloseMs}. */
export const DEFAULT_CANCEL_AFTER_CLOSE_MS = 5_000;

/** Options of {@link createAguiHandler}. */
export interface AguiHandlerOptions {
  services: ToolrunServices;
  /** Largest request body, in bytes (`413` past it). */
  maxBodyBytes: number;
  /** How long a stream may wait for its socket to drain before it is closed (the client can reattach). */
  stalledAfterMs?: number | undefined;
  /**
   * When the connection of `POST /agui/<agent>` closes before its run ended (`HttpAgent.abortRun()`,
   * or a network drop), the run is cancelled after this many milliseconds, unless a client has
   * reattached to it (`GET /agui/runs/<runId>`) by then: a drop and an abort look the same to a
   * server, and this tells them apart. `0` cancels at once. Default 5 000.
   */
  cancelAfterCloseMs?: number | undefined;
}

/**
 * The AG-UI 1.0 endpoint, for requests under `/agui/`:
 * - `POST /agui/<agent>`: `RunAgentInput` in (the protocol's own schema), `Authorization: Bearer`,
 *   a `text/event-stream` of AG-UI events out. The run is an ordinary Toolrun run of the caller,
 *   started by the same function as `runs.start`, streamed by the same machinery as `runs.events`.
 * - `GET /agui/runs/<runId>` with `Last-Event-ID` (or `?lastEventId=`): reattaches to the caller's
 *   run, beyond AG-UI 1.0: a prelude a fresh client accepts, then exactly the rest.
 *
 * Refusals come before any stream, as plain HTTP errors with a readable `text/plain` body: 401
 * without a valid token, 404 for an unknown agent or another user's run, 400 for a bad body, 413,
 * 415, 429 at the caller's limits.
 */
export function createAguiHandler(opts: AguiHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { services } = opts;
  const cancelAfterCloseMs = opts.cancelAfterCloseMs ?? DEFAULT_CANCEL_AFTER_CLOSE_MS;
  // Runs whose POST connection closed early, waiting for a reattach before they are cancelled.
  const orphans = new Map<string, ReturnType<typeof setTimeout>>();
  const adopt = (runId: string) => {
    clearTimeout(orphans.get(runId));
    orphans.delete(runId);
  };
  services.signal.addEventListener('abort', () => {
    for (const runId of [...orphans.keys()]) adopt(runId);
  });

  async function run(req: IncomingMessage, res: ServerResponse, principal: Principal, agent: string): Promise<void> {
    const read = await readJsonBody(req, opts.maxBodyBytes);
    if ('refusal' in read) return refuse(res, read.refusal);
    const parsed = readRunAgentInput(read.body);
    if ('refusal' in parsed) return refuse(res, parsed.refusal);
    const info = services.factory.agents.list().find((a) => a.name === agent);
    let runId: string;
    try {
      const started = await startRun(services, principal, {
        agent,
        input: agentInputFor(info, parsed.input),
        threadId: parsed.input.threadId,
        // An AG-UI client waits on its stream: a run that cannot start now is refused (429), not queued.
        onBusy: 'reject',
      });
      runId = started.runId;
    } catch (error) {
      const trpc = toTRPCError(error);
      return refuse(res, { status: getHTTPStatusCodeFromError(trpc), message: trpc.message });
    }
    let finished = false;
    const closed = new AbortController();
    const onClose = () => {
      closed.abort();
      if (finished || services.signal.aborted) return;
      const cancel = () => {
        orphans.delete(runId);
        if (!services.signal.aborted) services.factory.cancelRun(runId, 'the AG-UI client closed its connection');
      };
      if (cancelAfterCloseMs === 0) cancel();
      else orphans.set(runId, setTimeout(cancel, cancelAfterCloseMs).unref());
    };
    // The client may have gone while the run was being started.
    if (res.destroyed) onClose();
    else res.once('close', onClose);
    const stream = new SseStream(res, { stalledAfterMs: opts.stalledAfterMs });
    const mapper = new AguiEventMapper();
    try {
      await pipeRun({ services, principal, runId, afterSeq: 0, mapper, stream, signal: closed.signal });
      finished = !closed.signal.aborted;
    } finally {
      stream.end();
    }
  }

  async function reattach(req: IncomingMessage, res: ServerResponse, principal: Principal, runId: string) {
    const run = await findRun(services, runId);
    if (run === undefined || run.userId !== principal.userId) {
      return refuse(res, { status: 404, message: `no run ${JSON.stringify(runId)}` });
    }
    const header = req.headers['last-event-id'];
    const lastEventId = (Array.isArray(header) ? header[0] : header) ?? queryParam(req, 'lastEventId');
    let afterSeq = 0;
    if (lastEventId !== undefined && lastEventId !== '') {
      const parsed = parseEventId(lastEventId);
      if (parsed === undefined || parsed.runId !== runId) {
        return refuse(res, { status: 400, message: 'Last-Event-ID: is not an event of this run' });
      }
      if (parsed.seq > run.lastSeq) {
        return refuse(res, { status: 400, message: 'Last-Event-ID: is past the last event of this run' });
      }
      afterSeq = parsed.seq;
    }
    adopt(runId);
    const closed = new AbortController();
    res.once('close', () => closed.abort());
    const stream = new SseStream(res, { stalledAfterMs: opts.stalledAfterMs });
    const mapper = await mapperAt(services, runId, afterSeq);
    try {
      if (!(run.finished && afterSeq === run.lastSeq)) {
        stream.send(mapper.prelude());
        await pipeRun({ services, principal, runId, afterSeq, mapper, stream, signal: closed.signal });
      }
    } finally {
      stream.end();
    }
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      services.logger.error({ err: error }, 'AG-UI request failed');
      if (!res.headersSent) refuse(res, { status: 500, message: 'internal server error' });
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = routeOf(req);
    if (route === undefined) return refuse(res, { status: 404, message: 'no such AG-UI endpoint' });
    if (req.method !== route.method) {
      res.setHeader('Allow', route.method);
      return refuse(res, { status: 405, message: `use ${route.method}` });
    }
    const context = await createContext({ services, authorization: req.headers.authorization });
    const principal = context.principal;
    if (principal === null) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      const why = context.authError?.message ?? 'send Authorization: Bearer <token>';
      return refuse(res, { status: 401, message: `authentication required: ${why}` });
    }
    if (route.kind === 'run') return run(req, res, principal, route.name);
    return reattach(req, res, principal, route.name);
  }
}

type Route = { kind: 'run' | 'reattach'; method: 'POST' | 'GET'; name: string };

function routeOf(req: IncomingMessage): Route | undefined {
  const url = req.url ?? '/';
  const end = url.search(/[?#]/);
  const path = end === -1 ? url : url.slice(0, end);
  const rest = path.startsWith(`${AGUI_PATH}/`) ? path.slice(AGUI_PATH.length + 1) : undefined;
  if (rest === undefined) return undefined;
  const parts = rest.split('/');
  try {
    if (parts.length === 1 && /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(parts[0] ?? '')) {
      return { kind: 'run', method: 'POST', name: parts[0] ?? '' };
    }
    if (parts.length === 2 && parts[0] === 'runs') {
      const runId = decodeURIComponent(parts[1] ?? '');
      if (runId.length > 0 && runId.length <= MAX_ID_LENGTH) return { kind: 'reattach', method: 'GET', name: runId };
    }
  } catch {
    // A malformed percent-encoding: no such endpoint.
  }
  return undefined;
}

function queryParam(req: IncomingMessage, name: string): string | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined;
}

function refuse(res: ServerResponse, refusal: Refusal): void {
  if (refusal.status === 413) res.setHeader('Connection', 'close');
  res.writeHead(refusal.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${refusal.message}\n`);
}
