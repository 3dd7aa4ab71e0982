import { request } from 'node:http';
import WebSocket from 'ws';

/** What a raw HTTP request got back: status, headers and the whole body (bounded by the read time). */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends a request with exactly the headers given, `Host` included (fetch does not let a caller set
 * `Host`; a browser under DNS rebinding sends the attacker's name there). An SSE stream is read for
 * `readMs` and then closed.
 */
export function rawRequest(opts: {
  url: string;
  method?: string;
  headers: Record<string, string>;
  body?: string;
  readMs?: number;
}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(opts.url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false });
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      const timer = setTimeout(() => req.destroy(), opts.readMs ?? 500);
      res.once('close', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.end(opts.body);
  });
}

/** How a WebSocket upgrade went: refused with a status, or opened (and what it then received). */
export interface UpgradeOutcome {
  status: number | 'open';
  /** Messages received after opening (within `readMs`). */
  messages: string[];
}

/**
 * Opens a WebSocket with the given `Host`/`Origin`; when it opens, sends `messages` (connection
 * params, calls) and collects what comes back for `readMs`.
 */
export function tryUpgrade(opts: {
  url: string;
  headers: Record<string, string>;
  messages?: readonly string[];
  readMs?: number;
}): Promise<UpgradeOutcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(opts.url, { headers: opts.headers });
    const out: UpgradeOutcome = { status: 'open', messages: [] };
    ws.once('unexpected-response', (_req, res) => {
      out.status = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
      resolve(out);
    });
    ws.once('error', () => resolve(out));
    ws.on('message', (data) => out.messages.push(String(data)));
    ws.once('open', () => {
      for (const message of opts.messages ?? []) ws.send(message);
      setTimeout(() => {
        ws.terminate();
        resolve(out);
      }, opts.readMs ?? 500);
    });
  });
}
