import WebSocket from 'ws';

/** What a WebSocket connection answered to a series of raw messages. */
export interface WsExchange {
  /** Every text message the server sent, parsed when it was JSON. */
  messages: unknown[];
  /** The raw text of every message, for the stack-trace check. */
  raw: string[];
  /** Close code when the server closed the connection during the exchange; undefined when it stayed open. */
  closeCode: number | undefined;
  /** Whether the sentinel (`auth.me`, sent last) was answered. */
  sentinelAnswered: boolean;
}

const SENTINEL_ID = 'sentinel-after-fuzz';

/**
 * Opens a WebSocket to `/trpc` (with `?connectionParams=1` when `connectionParams` is given, which
 * is then sent first, raw), sends `messages` as they are (text or binary), then a valid `auth.me`
 * query as a sentinel, and collects everything until the sentinel is answered, the server closes
 * the connection, or `waitMs` passes. Always closes the connection.
 */
export function wsExchange(opts: {
  baseUrl: string;
  connectionParams?: string | undefined;
  messages: readonly (string | Buffer)[];
  waitMs?: number;
}): Promise<WsExchange> {
  const url = `${opts.baseUrl.replace(/^http/, 'ws')}/trpc${opts.connectionParams === undefined ? '' : '?connectionParams=1'}`;
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const out: WsExchange = { messages: [], raw: [], closeCode: undefined, sentinelAnswered: false };
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.terminate();
      resolve(out);
    };
    const timer = setTimeout(finish, opts.waitMs ?? 3_000);
    ws.on('error', () => finish());
    ws.on('close', (code) => {
      out.closeCode = code;
      finish();
    });
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? `<binary ${String((data as Buffer).length)}>` : String(data);
      out.raw.push(text);
      if (text === 'PING') {
        ws.send('PONG');
        return;
      }
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Kept as text.
      }
      out.messages.push(parsed);
      if (parsed !== null && typeof parsed === 'object' && (parsed as { id?: unknown }).id === SENTINEL_ID) {
        out.sentinelAnswered = true;
        finish();
      }
    });
    ws.on('open', () => {
      if (opts.connectionParams !== undefined) ws.send(opts.connectionParams);
      for (const message of opts.messages) {
        if (ws.readyState !== WebSocket.OPEN) break;
        ws.send(message);
      }
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ id: SENTINEL_ID, method: 'query', params: { path: 'auth.me', input: null } }));
      }
    });
  });
}
