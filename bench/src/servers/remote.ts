import { join } from 'node:path';
import { type Child, startChild } from '../harness/children.ts';
import type { ClientReply, ClientRequest, HostReply, HostRequest, StreamUser, TransportName } from './protocol.ts';

type Reply<T extends HostReply['type']> = Extract<HostReply, { type: T }>;

/** The parent's handle on a server host process (a real Toolrun server or the raw ws baseline). */
export interface RemoteHost {
  readonly url: string;
  readonly pid: number;
  prepare(opts: Omit<Extract<HostRequest, { type: 'prepare' }>, 'type' | 'id'>): Promise<StreamUser[]>;
  tokens(users: number, prefix: string): Promise<StreamUser[]>;
  go(): Promise<number>;
  /** RSS, heap, CPU and event-loop delay; `resetLoopDelay` starts a new delay window. */
  stats(gc: boolean, resetLoopDelay?: boolean): Promise<Reply<'stats'>>;
  cleanup(): Promise<void>;
  profileStart(): Promise<void>;
  profileStop(path: string): Promise<void>;
  /** Shuts the server down gracefully, then makes sure the process is gone. */
  close(): Promise<void>;
}

const SLOW_MS = 120_000;

/**
 * Starts a host: `toolrun` runs `startServer` with the bench agent (`toolrun-stock-sse` with tRPC's own
 * SSE writer, `sse: 'trpc'`; `toolrun-inline-db` committing on the event loop, `databaseWriter: 'inline'`);
 * `raw-ws` the raw ws baseline.
 * `execArgv` adds Node flags (`--expose-gc` for RSS after GC).
 */
export async function startHost(opts: {
  kind: HostKind;
  benchRoot: string;
  execArgv?: readonly string[];
  /** More environment for the host (`BENCH_DATABASE_URL` puts a `toolrun` host on PostgreSQL). */
  env?: Readonly<Record<string, string>>;
  /** Another host script (under `src/`, serving the same protocol), e.g. `cluster/clusterHost.ts`. */
  script?: string;
}): Promise<RemoteHost> {
  const script = join(
    opts.benchRoot,
    'src',
    opts.script ?? `servers/${opts.kind === 'raw-ws' ? 'rawWsHost.ts' : 'toolrunHost.ts'}`,
  );
  const child: Child<HostRequest, HostReply> = startChild({
    script,
    cwd: opts.benchRoot,
    execArgv: opts.execArgv ?? [],
    env: {
      BENCH_SSE_WRITER: opts.kind === 'toolrun-stock-sse' ? 'trpc' : 'lean',
      BENCH_DB_WRITER: opts.kind === 'toolrun-inline-db' ? 'inline' : 'thread',
      ...opts.env,
    },
  });
  const listening = await child
    .next((r): r is Reply<'listening'> => r.type === 'listening', 60_000)
    .catch(async (error: unknown) => {
      await child.stop(500);
      throw error;
    });
  let nextId = 1;
  const ask = async <T extends HostReply['type']>(
    request: HostRequest,
    type: T,
    timeoutMs = SLOW_MS,
  ): Promise<Reply<T>> => {
    child.send(request);
    const reply = await child.next(
      (r): r is Reply<T> | Reply<'error'> =>
        (r.type === type || r.type === 'error') && 'id' in r && r.id === request.id,
      timeoutMs,
    );
    if (reply.type === 'error') throw new Error(`host: ${(reply as Reply<'error'>).message}`);
    return reply as Reply<T>;
  };
  return {
    url: listening.url,
    pid: listening.pid,
    prepare: async (o) => (await ask({ type: 'prepare', id: nextId++, ...o }, 'prepared')).users,
    tokens: async (users, prefix) => (await ask({ type: 'tokens', id: nextId++, users, prefix }, 'tokens')).users,
    go: async () => (await ask({ type: 'go', id: nextId++ }, 'went')).at,
    stats: (gc, resetLoopDelay = false) => ask({ type: 'stats', id: nextId++, gc, resetLoopDelay }, 'stats'),
    cleanup: async () => {
      await ask({ type: 'cleanup', id: nextId++ }, 'cleaned');
    },
    profileStart: async () => {
      await ask({ type: 'profileStart', id: nextId++ }, 'ok');
    },
    profileStop: async (path) => {
      await ask({ type: 'profileStop', id: nextId++, path }, 'profileStopped');
    },
    close: async () => {
      try {
        await ask({ type: 'shutdown', id: nextId++ }, 'ok', 20_000);
      } catch {
        // It is killed below either way.
      }
      await child.stop(3_000);
    },
  };
}

type ClientResult = Extract<ClientReply, { type: 'result' }>;
type ClientReady = Extract<ClientReply, { type: 'ready' }>;

/** The parent's handle on a client process. */
export interface RemoteClient {
  /** Resolves once every subscription is live (or failed). */
  readonly ready: Promise<ClientReady>;
  go(at: number): void;
  result(timeoutMs: number): Promise<ClientResult>;
  close(): Promise<void>;
}

/** Starts a client process and sends it its job (`stream` or `idle`). */
export function startClient(opts: { benchRoot: string; job: ClientRequest; readyTimeoutMs: number }): RemoteClient {
  const child: Child<ClientRequest, ClientReply> = startChild({
    script: join(opts.benchRoot, 'src/clients/transportClient.ts'),
    cwd: opts.benchRoot,
  });
  const ready = child
    .next((r): r is Extract<ClientReply, { type: 'hello' }> => r.type === 'hello', 60_000)
    .then(() => {
      child.send(opts.job);
      return child.next((r): r is ClientReady => r.type === 'ready', opts.readyTimeoutMs);
    });
  // A failed start surfaces through `ready`; nobody else awaits it.
  ready.catch(() => {});
  return {
    ready,
    go: (at) => child.send({ type: 'go', at }),
    result: (timeoutMs) => child.next((r): r is ClientResult => r.type === 'result', timeoutMs),
    close: async () => {
      child.send({ type: 'close' });
      const timer = setTimeout(() => void child.stop(500), 3_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}

/** The transports the benchmarks compare, baseline first. */
export const TRANSPORTS: readonly TransportName[] = [
  'raw-ws',
  'trpc-ws',
  'trpc-sse',
  'trpc-sse-stock',
  'trpc-ws-inline-db',
];

/** The comparison transports: what the server can be set to, next to what it ships. Not in quick runs. */
export const COMPARISONS: readonly TransportName[] = ['trpc-sse-stock', 'trpc-ws-inline-db'];

/** The transports of a run: a quick run leaves the comparisons out. */
export function transportsFor(quick: boolean): readonly TransportName[] {
  return quick ? TRANSPORTS.filter((t) => !COMPARISONS.includes(t)) : TRANSPORTS;
}

/** The kind of host a transport's server runs in. */
export type HostKind = 'raw-ws' | 'toolrun' | 'toolrun-stock-sse' | 'toolrun-inline-db';

/** Which host serves a transport. */
export function hostKindOf(transport: TransportName): HostKind {
  switch (transport) {
    case 'raw-ws':
      return 'raw-ws';
    case 'trpc-sse-stock':
      return 'toolrun-stock-sse';
    case 'trpc-ws-inline-db':
      return 'toolrun-inline-db';
    case 'trpc-ws':
    case 'trpc-sse':
      return 'toolrun';
    default: {
      const never: never = transport;
      throw new Error(`unknown transport ${String(never)}`);
    }
  }
}
