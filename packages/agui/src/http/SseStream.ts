import type { ServerResponse } from 'node:http';
import type { Event } from '@ag-ui/core';
import { EventEncoder } from '@ag-ui/encoder';

/** How long a stream may wait for its socket to drain before it is closed; see {@link SseStream}. */
export const DEFAULT_STALLED_AFTER_MS = 30_000;
const KEEPALIVE_MS = 15_000;

/**
 * One `text/event-stream` response of AG-UI events, framed by the protocol's own encoder (`data:`
 * lines, LF only). The last frame made from one Toolrun event carries that event's id as its `id:`
 * line, so `Last-Event-ID` names the last Toolrun event a client received whole. A comment line
 * every 15 s keeps proxies from timing an idle stream out (AG-UI clients ignore comments). A reader
 * whose socket does not drain within `stalledAfterMs` is cut off: it can reattach.
 */
export class SseStream {
  readonly #res: ServerResponse;
  readonly #encoder = new EventEncoder();
  readonly #stalledAfterMs: number;
  readonly #keepalive: ReturnType<typeof setInterval>;

  constructor(res: ServerResponse, opts: { stalledAfterMs?: number | undefined } = {}) {
    this.#res = res;
    this.#stalledAfterMs = opts.stalledAfterMs ?? DEFAULT_STALLED_AFTER_MS;
    res.writeHead(200, {
      'Content-Type': this.#encoder.getContentType(),
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    this.#keepalive = setInterval(() => {
      if (!res.writableNeedDrain) res.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
    res.once('close', () => clearInterval(this.#keepalive));
  }

  /** Writes `events` as frames, the last one with `id: <eventId>` when given. */
  send(events: readonly Event[], eventId?: string): void {
    if (this.#res.destroyed || events.length === 0) return;
    let text = '';
    events.forEach((event, index) => {
      if (eventId !== undefined && index === events.length - 1) text += `id: ${eventId}\n`;
      text += this.#encoder.encodeSSE(event);
    });
    this.#res.write(text);
  }

  /** Resolves once the socket can take more (at once when it can), or the stream closes or `signal` aborts. */
  whenWritable = (signal: AbortSignal): Promise<void> | undefined => {
    const res = this.#res;
    if (!res.writableNeedDrain || res.destroyed) return undefined;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        res.off('drain', done);
        res.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      // A reader that stops reading would hold the run's replay in memory for ever.
      const timer = setTimeout(() => {
        res.destroy();
        done();
      }, this.#stalledAfterMs);
      res.once('drain', done);
      res.once('close', done);
      signal.addEventListener('abort', done, { once: true });
    });
  };

  /** Ends the response. */
  end(): void {
    clearInterval(this.#keepalive);
    if (!this.#res.destroyed && !this.#res.writableEnded) this.#res.end();
  }
}
