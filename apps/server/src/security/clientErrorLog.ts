import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';

/** What a client did wrong. Each is a `warn` without a stack, rate-limited per client, counted in `/metrics`. */
export type ClientErrorKind =
  | 'bad_host'
  | 'bad_origin'
  | 'bad_token'
  | 'over_cap'
  | 'ws_message_too_large'
  | 'ws_protocol'
  | 'connection_limit';

const MESSAGES: Readonly<Record<ClientErrorKind, string>> = {
  bad_host: 'refused a request for a Host this server does not answer to (DNS rebinding?)',
  bad_origin: 'refused a request from a foreign Origin',
  bad_token: 'refused a call with an invalid or expired token',
  over_cap: 'refused a subscription or connection over a per-user or per-connection cap',
  ws_message_too_large: 'closed a WebSocket whose message was over the size limit',
  ws_protocol: 'closed a WebSocket that broke the protocol',
  connection_limit: 'dropped a connection: the server holds as many as it may (TOOLRUN_MAX_CONNECTIONS)',
};

/** Options of {@link createClientErrorLog}. */
export interface ClientErrorLogOptions {
  logger: Logger;
  registry: Registry;
  /** Length of one window per client and kind; default 10 s. */
  windowMs?: number;
  /** Lines logged per client and kind in one window before the rest are only counted; default 3. */
  burst?: number;
  /** Clients tracked at once; past it, new clients share one entry per kind. Default 10,000. */
  maxClients?: number;
}

/** Reports client-caused errors; see {@link createClientErrorLog}. */
export interface ClientErrorLog {
  /** One client error, from `remote` (its address), with a few details for the log line (kept short). */
  report(kind: ClientErrorKind, remote: string | undefined, details?: Record<string, unknown>): void;
  /** Logs the pending summaries and stops the timers (server close). */
  close(): void;
}

interface Window {
  readonly kind: ClientErrorKind;
  readonly remote: string;
  logged: number;
  suppressed: number;
  readonly timer: NodeJS.Timeout;
}

/**
 * Client mistakes must not become log floods: each report is counted in
 * `toolrun_client_errors_total{kind}`, the first `burst` per client (remote address) and kind in a
 * window are logged at `warn` without a stack, the rest only counted, and when the window ends one
 * line says how many were suppressed.
 */
export function createClientErrorLog(opts: ClientErrorLogOptions): ClientErrorLog {
  const windowMs = opts.windowMs ?? 10_000;
  const burst = opts.burst ?? 3;
  const maxClients = opts.maxClients ?? 10_000;
  const counter = new Counter({
    name: 'toolrun_client_errors_total',
    help: 'Client-caused errors (refused Host or Origin, bad tokens, caps, WebSocket protocol), by kind.',
    labelNames: ['kind'] as const,
    registers: [opts.registry],
  });
  const windows = new Map<string, Window>();

  const flush = (key: string) => {
    const window = windows.get(key);
    if (window === undefined) return;
    windows.delete(key);
    clearTimeout(window.timer);
    if (window.suppressed > 0) {
      const { kind, remote, suppressed } = window;
      opts.logger.warn({ kind, remote, suppressed, windowMs }, `suppressed ${suppressed} more of: ${MESSAGES[kind]}`);
    }
  };

  return {
    report(kind, remoteAddress, details = {}) {
      counter.inc({ kind });
      let remote = remoteAddress ?? 'unknown';
      if (!windows.has(`${remote} ${kind}`) && windows.size >= maxClients) remote = 'many clients';
      const key = `${remote} ${kind}`;
      let window = windows.get(key);
      if (window === undefined) {
        const timer = setTimeout(() => flush(key), windowMs);
        timer.unref();
        window = { kind, remote, logged: 0, suppressed: 0, timer };
        windows.set(key, window);
      }
      if (window.logged < burst) {
        window.logged += 1;
        opts.logger.warn({ kind, remote, ...clipped(details) }, MESSAGES[kind]);
      } else window.suppressed += 1;
    },
    close() {
      for (const key of [...windows.keys()]) flush(key);
    },
  };
}

// A hostile client chooses these values (a Host header, a message): keep each log line short.
function clipped(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(details)) {
    out[name] = typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…` : value;
  }
  return out;
}
