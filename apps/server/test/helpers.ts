import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppRouter, RunEvent } from '@toolrun/api';
import type { TRPCClient } from '@trpc/client';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
  wsLink,
} from '@trpc/client';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import type { RunningServer, StartServerOptions } from '../src/index.ts';
import { startServer } from '../src/index.ts';

/** The development signing secret every test server shares. */
export const TEST_SECRET = 'toolrun-test-secret-0123456789abcdef';
export type Transport = 'sse' | 'ws';
export const TRANSPORTS: readonly Transport[] = ['sse', 'ws'];

/** A temporary folder, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'toolrun-server-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A real server on an ephemeral port with a real SQLite file in a temporary folder. */
export async function startTestServer(
  opts: Partial<StartServerOptions> = {},
): Promise<RunningServer & { dbPath: string; dir: string; stop: () => Promise<void> }> {
  const tmp = tempDir();
  const dbPath = opts.database ?? join(tmp.dir, 'toolrun.db');
  const server = await startServer({
    auth: { mode: 'dev', secret: TEST_SECRET },
    graceMs: 2_000,
    consoleDir: join(tmp.dir, 'no-console'),
    ...opts,
    database: dbPath,
  });
  return {
    ...server,
    dbPath,
    dir: tmp.dir,
    async stop() {
      await server.close();
      tmp.remove();
    },
  };
}

export type Client = TRPCClient<AppRouter>;

/**
 * A real tRPC client: over SSE (`httpSubscriptionLink` with the `eventsource` polyfill, queries and
 * mutations over `httpBatchLink`) or entirely over WebSocket (`wsLink` with `ws`).
 */
export function createClient(
  baseUrl: string,
  opts: { transport: Transport; token?: string },
): {
  client: Client;
  close: () => void;
} {
  const url = `${baseUrl}/trpc`;
  const params = opts.token === undefined ? {} : { connectionParams: { token: opts.token } };
  if (opts.transport === 'ws') {
    const wsClient = createWSClient({
      url: url.replace(/^http/, 'ws'),
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      retryDelayMs: () => 200,
      ...params,
    });
    return {
      client: createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] }),
      close: () => wsClient.close(),
    };
  }
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url, EventSource, ...params }),
        false: httpBatchLink({
          url,
          headers: opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` },
        }),
      }),
    ],
  });
  return { client, close: () => {} };
}

/** Signs in through `auth.login` and returns the token. */
export async function login(baseUrl: string, userId: string, role: 'user' | 'admin' = 'user'): Promise<string> {
  const { client } = createClient(baseUrl, { transport: 'sse' });
  const { token } = await client.auth.login.mutate({ userId, role });
  return token;
}

/** One subscription message: its tracked id and its events. */
export interface Message {
  id: string;
  events: RunEvent[];
}

/** A running subscription whose messages are collected. */
export interface Collector {
  readonly messages: Message[];
  /** How many times the subscription (re)started: more than 1 after a reconnect. */
  starts(): number;
  events(): RunEvent[];
  /** Resolves when the server completes the stream; rejects on a subscription error. */
  readonly done: Promise<Message[]>;
  /** Resolves once at least `n` events have arrived. */
  waitForEvents(n: number, timeoutMs?: number): Promise<RunEvent[]>;
  unsubscribe(): void;
}

type Subscribe = (callbacks: {
  onData: (message: { id: string; data: RunEvent[] }) => void;
  onError: (error: unknown) => void;
  onComplete: () => void;
  onStopped: () => void;
  onStarted: () => void;
}) => { unsubscribe: () => void };

/** Subscribes and collects every message until the stream completes. */
export function collect(subscribe: Subscribe): Collector {
  const messages: Message[] = [];
  const waiters = new Set<() => void>();
  let settle: { resolve: (m: Message[]) => void; reject: (e: unknown) => void } | undefined;
  const done = new Promise<Message[]>((resolve, reject) => {
    settle = { resolve, reject };
  });
  done.catch(() => {});
  const all = () => messages.flatMap((m) => m.events);
  let ended = false;
  let starts = 0;
  const finish = () => {
    ended = true;
    settle?.resolve(messages);
    for (const w of waiters) w();
  };
  const sub = subscribe({
    onData(message) {
      messages.push({ id: message.id, events: message.data });
      for (const w of waiters) w();
    },
    onError(error) {
      ended = true;
      settle?.reject(error);
      for (const w of waiters) w();
    },
    onComplete: finish,
    onStopped: finish,
    onStarted: () => {
      starts += 1;
    },
  });
  return {
    messages,
    starts: () => starts,
    events: all,
    done,
    waitForEvents(n, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${n} events (have ${all().length})`));
        }, timeoutMs);
        const check = () => {
          if (all().length >= n) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(all());
          } else if (ended) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`the stream ended after ${all().length} of ${n} events`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    unsubscribe: () => sub.unsubscribe(),
  };
}

/** The tRPC error code of a rejected call (`UNAUTHORIZED`, …), or `OK`. */
export async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    if (error instanceof TRPCClientError) return String(error.data?.code ?? error.message);
    throw error;
  }
}

/** Fails with a message after `ms`: a hang guard, never a speed assertion. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hang guard: ${what} did not finish within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Polls `check` every 25 ms until it returns a value other than undefined (bounded). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('hang guard: condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Checks the ordering rules of one run's events; returns the problems found (none when valid). */
export function orderingProblems(events: readonly RunEvent[]): string[] {
  const problems: string[] = [];
  const open = new Set<string>();
  events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`event ${i} has seq ${e.seq}`);
    if (e.id !== `${e.runId}:${e.seq}`) problems.push(`event ${i} has id ${e.id}`);
    if (i === 0 && e.type !== 'agent_started') problems.push('first event is not agent_started');
    if (e.type === 'tool_executing') open.add(e.callId);
    if (e.type === 'tool_completed' && !open.delete(e.callId))
      problems.push(`tool_completed ${e.callId} without executing`);
    if (e.type === 'agent_completed' && i !== events.length - 1) problems.push('events after agent_completed');
  });
  if (events.at(-1)?.type !== 'agent_completed') problems.push('last event is not agent_completed');
  if (open.size > 0) problems.push(`tool calls never completed: ${[...open].join(', ')}`);
  return problems;
}

/**
 * Builds a JWT by hand (HS256/HS512 with node:crypto, or `alg: none` unsigned), so tests can make
 * forged, expired and unsigned tokens without a JWT library.
 */
export function handMadeJwt(
  claims: Record<string, unknown>,
  opts: { secret?: string; alg?: 'HS256' | 'HS512' | 'none' } = {},
): string {
  const alg = opts.alg ?? 'HS256';
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg, typ: 'JWT' })}.${encode(claims)}`;
  if (alg === 'none') return `${body}.`;
  const hash = alg === 'HS256' ? 'sha256' : 'sha512';
  return `${body}.${createHmac(hash, opts.secret ?? TEST_SECRET)
    .update(body)
    .digest('base64url')}`;
}

/**
 * Runs an example script (`examples/*.ts`) as a user would, with `node --import tsx`, against
 * `baseUrl` (as `TOOLRUN_URL`); resolves with its exit code and everything it printed. Killed past
 * `timeoutMs` (default 30 s).
 */
export async function runExample(
  file: string,
  cwd: string,
  baseUrl: string,
  timeoutMs = 30_000,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd,
    env: { ...process.env, TOOLRUN_URL: baseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await within(
    new Promise<number | null>((resolve) => child.once('exit', resolve)),
    timeoutMs,
    'the example',
  ).finally(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { code, output };
}
