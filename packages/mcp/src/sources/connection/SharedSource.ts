import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { DispatchError } from '@toolrun/dispatcher';
import type { SourceConfig } from '../config/loadMcpConfig.ts';
import type { SourceState } from '../sourceHealth.ts';
import { backoffMs } from './backoff.ts';
import { callOnSession, classify, type McpCall, SessionLost } from './callOnSession.ts';
import { listAllTools, type McpSession, openSession, type SessionTarget } from './openSession.ts';

/** What a source tells its owner. */
export interface SourceEvents {
  /** The server listed its tools (on connecting, and after `notifications/tools/list_changed`). */
  toolsListed(tools: Tool[]): void;
  /** A state change or failure worth logging. */
  log(level: 'info' | 'warn', message: string, fields?: Record<string, unknown>): void;
}

/**
 * One session shared by every user (an HTTP server, or one stdio process). Connects at start; when
 * the server is down or dies, its calls answer `TOOL_UNAVAILABLE` while it reconnects with backoff
 * (a new SDK client each time). A session the server forgot (HTTP 404) is re-initialised at once
 * and the call retried once: the server never saw it.
 */
export class SharedSource {
  state: SourceState = 'connecting';
  connects = 0;
  lastError: string | undefined;
  #session: McpSession | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ping: ReturnType<typeof setInterval> | undefined;
  #connecting: Promise<void> | undefined;
  #refreshing: Promise<void> | undefined;
  readonly #stop = new AbortController();

  // A getter, not a state comparison: the state changes across awaits, which narrowing ignores.
  get #closed(): boolean {
    return this.#stop.signal.aborted;
  }

  constructor(
    readonly config: SourceConfig,
    readonly target: SessionTarget,
    readonly events: SourceEvents,
  ) {}

  /** The first connection attempt; resolves either way (a source down at start keeps trying). */
  start(): Promise<void> {
    return this.#connect();
  }

  async call(call: McpCall) {
    for (let attempt = 0; ; attempt += 1) {
      const session = this.#session;
      if (this.state !== 'ready' || session === undefined) throw this.#unavailable();
      try {
        return await callOnSession(session.client, call);
      } catch (error) {
        if (!(error instanceof SessionLost)) throw error;
        this.#lost(session, error.message);
        if (!error.expired || attempt > 0) throw this.#unavailable();
        // The server forgot the session and never saw the call: a new session, then once more.
        await this.#connect();
      }
    }
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.#stop.abort();
    clearTimeout(this.#timer);
    clearInterval(this.#ping);
    await this.#session?.close();
    this.#session = undefined;
  }

  #unavailable(): DispatchError {
    const why = this.lastError === undefined ? '' : ` (${this.lastError})`;
    return new DispatchError(
      'TOOL_UNAVAILABLE',
      `MCP source "${this.config.name}" is ${this.state}${why}; reconnecting`,
    );
  }

  #connect(): Promise<void> {
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #open(): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      let session: McpSession | undefined;
      session = await openSession(this.target, {
        timeoutMs: this.config.connectTimeoutMs,
        signal: this.#stop.signal,
        onClosed: () => {
          if (session !== undefined) this.#lost(session, 'the connection closed');
        },
        onToolsChanged: () => {
          if (session !== undefined) this.#refresh(session);
        },
      });
      if (this.#closed) {
        await session.close();
        return;
      }
      this.#session = session;
      this.state = 'ready';
      this.#attempt = 0;
      this.connects += 1;
      this.events.log('info', 'MCP source connected', { tools: session.tools.length, connects: this.connects });
      this.events.toolsListed(session.tools);
      this.#watch(session);
    } catch (error) {
      if (this.#closed) return;
      this.lastError = error instanceof Error ? error.message : String(error);
      this.state = 'down';
      this.events.log('warn', 'MCP source unreachable; retrying', { error: this.lastError });
      this.#retry();
    }
  }

  // A ping now and then, so that a server that died between calls is noticed before the next call.
  #watch(session: McpSession): void {
    clearInterval(this.#ping);
    if (this.config.pingIntervalMs === 0) return;
    this.#ping = setInterval(() => {
      session.client.ping({ timeout: this.config.connectTimeoutMs }).catch((error: unknown) => {
        const lost = classify(error);
        if (lost instanceof SessionLost) this.#lost(session, lost.message);
      });
    }, this.config.pingIntervalMs);
    this.#ping.unref();
  }

  #lost(session: McpSession, why: string): void {
    if (this.#session !== session || this.#closed) return;
    this.#session = undefined;
    clearInterval(this.#ping);
    this.state = 'down';
    this.lastError = why;
    this.events.log('warn', 'MCP source lost; reconnecting', { error: why });
    void session.close();
    this.#retry();
  }

  #retry(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const delay = backoffMs(this.#attempt);
    this.#attempt += 1;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, delay);
    this.#timer.unref();
  }

  // One listing at a time; a change announced meanwhile is picked up by one more.
  #refresh(session: McpSession): void {
    const run = async () => {
      try {
        const tools = await listAllTools(session.client, { timeout: this.config.connectTimeoutMs });
        if (this.#session === session) this.events.toolsListed(tools);
      } catch (error) {
        this.lastError = `listing tools after list_changed failed: ${(error as Error).message}`;
        this.events.log('warn', 'MCP source tool refresh failed', { error: this.lastError });
      }
    };
    this.#refreshing = (this.#refreshing ?? Promise.resolve()).then(run);
  }
}
