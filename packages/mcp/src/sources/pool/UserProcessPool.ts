import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { DispatchError } from '@toolrun/dispatcher';
import type { StdioSourceConfig } from '../config/loadMcpConfig.ts';
import { backoffMs } from '../connection/backoff.ts';
import { callOnSession, type McpCall, SessionLost } from '../connection/callOnSession.ts';
import { type McpSession, openSession, type SessionTarget } from '../connection/openSession.ts';
import { encodeUserId, substituteUserId } from './substituteUserId.ts';

interface UserProcess {
  readonly userId: string;
  session: McpSession | undefined;
  starting: Promise<McpSession> | undefined;
  inFlight: number;
  lastUsed: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

// Start failures remembered per user (for the backoff), at most this many users.
const MAX_REMEMBERED_FAILURES = 1_024;

/** The session target of `userId`'s process: `{userId}` substituted (encoded) in args, env and cwd. */
export function userTarget(config: StdioSourceConfig, value: string): SessionTarget {
  const sub = (template: string) => substituteUserId(template, value);
  return {
    transport: 'stdio',
    command: config.command,
    args: config.args.map(sub),
    env: Object.fromEntries(Object.entries(config.env).map(([key, v]) => [key, sub(v)])),
    cwd: config.cwd === undefined ? undefined : sub(config.cwd),
  };
}

/**
 * One process per active user for a `scope: 'user'` stdio source. A user's first call starts their
 * process; a call only ever reaches the process started for its own user (the map is keyed by user
 * and the process's `{userId}` was that user's); a process idle for `idleTimeoutMs` is stopped;
 * at most `maxProcesses` run, the least recently used idle one stopped to make room, and when all
 * are busy the call answers `TOOL_UNAVAILABLE`. A process that fails to start is not tried again
 * for that user before a backoff delay.
 */
export class UserProcessPool {
  readonly #processes = new Map<string, UserProcess>();
  readonly #failures = new Map<string, { until: number; attempts: number; message: string }>();
  #closed = false;

  constructor(readonly config: StdioSourceConfig) {}

  /** Processes running or starting now. */
  get size(): number {
    return this.#processes.size;
  }

  /** Which process serves which user (for tests and diagnostics). */
  owners(): { userId: string; pid: number | undefined }[] {
    return [...this.#processes.values()].map((p) => ({ userId: p.userId, pid: p.session?.pid }));
  }

  async call(userId: string, call: McpCall): Promise<CallToolResult> {
    const process = this.#reserve(userId);
    try {
      const session = process.session ?? (await (process.starting as Promise<McpSession>));
      if (process.userId !== userId) throw new Error('unreachable: a process serves only its own user');
      return await callOnSession(session.client, call);
    } catch (error) {
      if (error instanceof SessionLost) {
        this.#drop(process);
        throw this.#unavailable(`the process of this user stopped (${error.message})`);
      }
      throw error;
    } finally {
      process.inFlight -= 1;
      process.lastUsed = Date.now();
      this.#armIdle(process);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#processes.values()];
    this.#processes.clear();
    await Promise.all(all.map((p) => this.#stop(p)));
  }

  #reserve(userId: string): UserProcess {
    if (this.#closed) throw this.#unavailable('the source is closed');
    let process = this.#processes.get(userId);
    if (process === undefined) {
      const failure = this.#failures.get(userId);
      if (failure !== undefined && failure.until > Date.now()) {
        throw this.#unavailable(`the process failed to start (${failure.message}); retrying later`);
      }
      if (this.#processes.size >= this.config.maxProcesses) this.#makeRoom();
      process = {
        userId,
        session: undefined,
        starting: undefined,
        inFlight: 0,
        lastUsed: Date.now(),
        idleTimer: undefined,
      };
      process.starting = this.#start(process);
      this.#processes.set(userId, process);
    }
    clearTimeout(process.idleTimer);
    process.idleTimer = undefined;
    process.inFlight += 1;
    return process;
  }

  async #start(process: UserProcess): Promise<McpSession> {
    try {
      const session = await openSession(userTarget(this.config, encodeUserId(process.userId)), {
        timeoutMs: this.config.connectTimeoutMs,
        onClosed: () => this.#drop(process),
      });
      process.session = session;
      process.starting = undefined;
      this.#failures.delete(process.userId);
      if (this.#processes.get(process.userId) !== process) await session.close();
      return session;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const attempts = (this.#failures.get(process.userId)?.attempts ?? 0) + 1;
      if (this.#failures.size >= MAX_REMEMBERED_FAILURES) this.#failures.clear();
      this.#failures.set(process.userId, { until: Date.now() + backoffMs(attempts - 1), attempts, message });
      this.#drop(process);
      throw this.#unavailable(`the process failed to start (${message})`);
    }
  }

  #makeRoom(): void {
    let oldest: UserProcess | undefined;
    for (const p of this.#processes.values()) {
      if (p.inFlight === 0 && p.session !== undefined && (oldest === undefined || p.lastUsed < oldest.lastUsed)) {
        oldest = p;
      }
    }
    if (oldest === undefined) {
      throw this.#unavailable(`all ${this.config.maxProcesses} per-user processes are busy`);
    }
    this.#drop(oldest);
  }

  #armIdle(process: UserProcess): void {
    if (process.inFlight > 0 || this.#processes.get(process.userId) !== process) return;
    clearTimeout(process.idleTimer);
    process.idleTimer = setTimeout(() => {
      if (process.inFlight === 0) this.#drop(process);
    }, this.config.idleTimeoutMs);
    process.idleTimer.unref();
  }

  #drop(process: UserProcess): void {
    if (this.#processes.get(process.userId) === process) this.#processes.delete(process.userId);
    void this.#stop(process);
  }

  async #stop(process: UserProcess): Promise<void> {
    clearTimeout(process.idleTimer);
    const session = process.session;
    process.session = undefined;
    await session?.close();
  }

  #unavailable(why: string): DispatchError {
    return new DispatchError('TOOL_UNAVAILABLE', `MCP source "${this.config.name}": ${why}`);
  }
}
