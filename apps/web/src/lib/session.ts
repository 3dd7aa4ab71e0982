import { QueryClient } from '@tanstack/react-query';
import { createContext, useContext } from 'react';
import { describeError } from './describeError.ts';
import { LiveRunsStore } from './liveRunsStore.ts';
import { RunsFeed } from './runsFeed.ts';
import type { Identity, Transport } from './sessionStore.ts';
import { type ConsoleClient, createConsoleClient, type SocketState } from './trpc.ts';

/**
 * Everything that belongs to one identity on one transport: its tRPC client, its own query cache
 * (so one user's cached data never shows for another), and the runs it follows live.
 */
export interface Session {
  readonly identity: Identity | undefined;
  readonly transport: Transport;
  readonly client: ConsoleClient;
  readonly queryClient: QueryClient;
  /** The one `runs.feed` subscription of this session: every run of the user; `undefined` while signed out. */
  readonly feed: RunsFeed | undefined;
  /** The user's runs, live from {@link feed}; `undefined` while signed out. */
  readonly liveRuns: LiveRunsStore | undefined;
  readonly socket: { get(): SocketState; subscribe(listener: () => void): () => void };
  dispose(): void;
}

let current: Session | undefined;

/**
 * The session for an identity and transport: the same object while neither changes, a new one
 * (the previous one disposed: WebSocket closed, streams ended) when either does. Idempotent, so it
 * can be called during render.
 */
export function sessionFor(identity: Identity | undefined, transport: Transport): Session {
  if (current !== undefined && current.identity === identity && current.transport === transport) return current;
  current?.dispose();
  current = createSession(identity, transport);
  return current;
}

function createSession(identity: Identity | undefined, transport: Transport): Session {
  let socketState: SocketState = 'idle';
  const socketListeners = new Set<() => void>();
  const { client, close } = createConsoleClient({
    token: () => identity?.token,
    transport,
    onSocketState: (state) => {
      socketState = state;
      for (const listener of socketListeners) listener();
    },
  });
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: {
        // Refusals (NOT_FOUND, FORBIDDEN, BAD_REQUEST) will not change on retry; network errors might.
        retry: (count, error) => count < 2 && describeError(error).retryable,
        refetchOnWindowFocus: false,
        staleTime: 2_000,
      },
      mutations: { retry: false },
    },
  });
  // One stream for everything live (run cards, approvals): over SSE each stream is an HTTP/1.1
  // connection, and browsers allow six per server.
  const feed =
    identity === undefined
      ? undefined
      : new RunsFeed({ subscribe: (input, observer) => client.runs.feed.subscribe(input, observer) });
  const liveRuns =
    feed === undefined || identity === undefined
      ? undefined
      : new LiveRunsStore({
          feed,
          userId: identity.userId,
          storage: globalThis.sessionStorage,
          loadRun: async (runId) => {
            const { run, events } = await client.runs.get.query({ runId });
            return { agent: run.agent, threadId: run.threadId, events };
          },
        });
  feed?.start();
  return {
    identity,
    transport,
    client,
    queryClient,
    feed,
    liveRuns,
    socket: {
      get: () => socketState,
      subscribe: (listener) => {
        socketListeners.add(listener);
        return () => socketListeners.delete(listener);
      },
    },
    dispose: () => {
      liveRuns?.dispose();
      feed?.dispose();
      queryClient.clear();
      close();
    },
  };
}

/** What pages get from the shell. */
export interface SessionApi {
  session: Session;
  signIn(identity: Identity): void;
  signOut(): void;
  setTransport(transport: Transport): void;
}

/** The shell's {@link SessionApi}; provided by `App`. */
export const SessionContext = createContext<SessionApi | undefined>(undefined);

/** The current session and the functions that change it. */
export function useSession(): SessionApi {
  const api = useContext(SessionContext);
  if (api === undefined) throw new Error('useSession() outside <App>');
  return api;
}
