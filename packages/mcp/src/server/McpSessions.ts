import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/** One MCP session: its transport and server, bound for its whole life to the user who opened it. */
export interface McpSession {
  readonly id: string;
  readonly userId: string;
  readonly transport: StreamableHTTPServerTransport;
  readonly server: Server;
  /** Monotonic milliseconds of the last request. */
  lastSeenMs: number;
  /** POST requests being handled (a call in flight keeps its session alive, however long it runs). */
  busy: number;
}

/** Limits of {@link McpSessions}. */
export interface McpSessionLimits {
  /** Open sessions per user; opening one more closes the user's least recently used idle session. */
  readonly maxSessionsPerUser: number;
  /** A session with no request for this long is closed (its client must initialize again). */
  readonly idleMs: number;
}

/**
 * The open sessions, by id and by user, bounded per user and expired when idle. Closing a session
 * closes its transport and server, which aborts the handlers of its calls in flight (their runs end
 * `cancelled`).
 */
export class McpSessions {
  readonly #byId = new Map<string, McpSession>();
  readonly #byUser = new Map<string, Set<McpSession>>();
  readonly #limits: McpSessionLimits;

  constructor(limits: McpSessionLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Sessions of one user. */
  countFor(userId: string): number {
    return this.#byUser.get(userId)?.size ?? 0;
  }

  get(id: string): McpSession | undefined {
    return this.#byId.get(id);
  }

  /**
   * Makes room for one more session of `userId`: closes their least recently used idle sessions
   * while they are at the limit. False when every one of them has a request in flight.
   */
  makeRoom(userId: string): boolean {
    const mine = this.#byUser.get(userId);
    while (mine !== undefined && mine.size >= this.#limits.maxSessionsPerUser) {
      let oldest: McpSession | undefined;
      for (const session of mine) {
        if (session.busy === 0 && (oldest === undefined || session.lastSeenMs < oldest.lastSeenMs)) oldest = session;
      }
      if (oldest === undefined) return false;
      this.close(oldest);
    }
    return true;
  }

  add(session: McpSession): void {
    this.#byId.set(session.id, session);
    let mine = this.#byUser.get(session.userId);
    if (mine === undefined) {
      mine = new Set();
      this.#byUser.set(session.userId, mine);
    }
    mine.add(session);
  }

  /** Forgets a session (its transport closed or the client ended it). */
  remove(id: string): void {
    const session = this.#byId.get(id);
    if (session === undefined) return;
    this.#byId.delete(id);
    const mine = this.#byUser.get(session.userId);
    mine?.delete(session);
    if (mine?.size === 0) this.#byUser.delete(session.userId);
  }

  /** Closes and forgets a session. */
  close(session: McpSession): void {
    this.remove(session.id);
    // The transport's close is synchronous in effect; its promise never carries anything to wait for.
    void session.server.close().catch(() => undefined);
  }

  /** Closes sessions idle for longer than the limit; returns how many. */
  sweep(nowMs: number): number {
    let closed = 0;
    for (const session of [...this.#byId.values()]) {
      if (session.busy === 0 && nowMs - session.lastSeenMs > this.#limits.idleMs) {
        this.close(session);
        closed += 1;
      }
    }
    return closed;
  }

  closeAll(): void {
    for (const session of [...this.#byId.values()]) this.close(session);
  }
}
