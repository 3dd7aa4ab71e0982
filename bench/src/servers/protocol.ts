import type { Stalls } from './stallWatch.ts';
/**
 * Messages between the bench (parent) and its server hosts and client processes, over the IPC
 * channel of `child_process.fork`. Every request carries an `id` that its reply repeats.
 */

/** One user of a scenario: who, their token, and the run they follow. */
export interface StreamUser {
  userId: string;
  token: string;
  runId: string;
}

/** How each run of a scenario emits. */
export interface StreamPlan {
  /** Events per run (the agent_thinking events; each run also has agent_started and agent_completed). */
  perRun: number;
  /** Events per second per run; absent: as fast as possible. */
  ratePerRun?: number;
  /** Events per event-loop turn per run, without a rate. */
  burst: number;
}

/** Parent → host. */
export type HostRequest =
  | { type: 'prepare'; id: number; users: number; prefix: string; plan: StreamPlan }
  | { type: 'tokens'; id: number; users: number; prefix: string }
  | { type: 'go'; id: number }
  /** `resetLoopDelay`: start a new event-loop delay window after answering. */
  | { type: 'stats'; id: number; gc: boolean; resetLoopDelay?: boolean }
  | { type: 'cleanup'; id: number }
  | { type: 'profileStart'; id: number }
  | { type: 'profileStop'; id: number; path: string }
  | { type: 'shutdown'; id: number };

/** Host → parent. */
export type HostReply =
  | { type: 'listening'; url: string; pid: number }
  | { type: 'prepared'; id: number; users: StreamUser[] }
  | { type: 'tokens'; id: number; users: StreamUser[] }
  | { type: 'went'; id: number; at: number }
  | {
      type: 'stats';
      id: number;
      rssBytes: number;
      heapUsedBytes: number;
      cpuUserUs: number;
      cpuSystemUs: number;
      subscriptions: number;
      /** Event-loop delay since the last reset (ms): how long ready work waited behind other work. */
      loopDelay: { p50: number; p99: number; max: number };
      /** Garbage-collection pauses since the last reset (`resetLoopDelay`), in ms. */
      gc: { count: number; totalMs: number; maxMs: number };
      /** Event-loop stalls since the last reset, and the CPU spent in them (see stallWatch.ts). */
      stalls: Stalls;
    }
  | { type: 'cleaned'; id: number; activeRuns: number }
  | { type: 'profileStopped'; id: number; path: string }
  | { type: 'ok'; id: number }
  | { type: 'error'; id: number; message: string };

/**
 * Which transport a client uses: raw ws (the baseline), tRPC `wsLink`, tRPC SSE as the server ships
 * it (its lean SSE writer), or tRPC SSE through tRPC's own node-http writer (`startServer({ sse: 'trpc' })`).
 */
export type TransportName = 'raw-ws' | 'trpc-ws' | 'trpc-sse' | 'trpc-sse-stock' | 'trpc-ws-inline-db';

/**
 * How a client process reads tRPC streams: the official tRPC client (`wsLink`, `httpSubscriptionLink`
 * with the `eventsource` polyfill) or a lean reader of the same wire format (the bench's default:
 * it costs the client a fraction of the CPU, so the latency measured is the server's and the network's).
 */
export type ClientReader = 'lean' | 'official';

/** Parent → client. */
export type ClientRequest =
  | {
      type: 'stream';
      transport: TransportName;
      reader: ClientReader;
      url: string;
      users: StreamUser[];
      perRun: number;
      /** How long to wait for every run to complete after `go`. */
      deadlineMs: number;
    }
  | { type: 'idle'; transport: TransportName; reader: ClientReader; url: string; users: StreamUser[] }
  | { type: 'go'; at: number }
  | { type: 'close' };

/** A latency distribution, in ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Client → parent. `hello` says the client listens for its job. */
export type ClientReply =
  | { type: 'hello' }
  | { type: 'ready'; connected: number; failed: number; firstError?: string }
  | {
      type: 'result';
      received: number;
      completedRuns: number;
      messages: number;
      firstAt: number | null;
      lastAt: number | null;
      latency: LatencySummary;
      /**
       * The client's own time per message: from reading its bytes off the socket to having handled it
       * (parse included). Only where the reader knows when it read (lean readers, raw ws); else absent.
       */
      processing?: LatencySummary;
      /** Every latency sample (ms, emit to receipt), for merging the results of several client processes. */
      samples: Float64Array;
      errors: number;
      firstError?: string;
      cpuUserUs: number;
      cpuSystemUs: number;
      /** The client's event-loop delay while measuring (ms): a saturated client shows here. */
      /** Event-loop stalls while measuring, and the CPU spent in them (see stallWatch.ts). */
      stalls: Stalls;
      loopDelay: { p50: number; p99: number; max: number };
      timedOut: boolean;
    };
