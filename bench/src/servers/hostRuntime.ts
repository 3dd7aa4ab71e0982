import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { HostReply, HostRequest } from './protocol.ts';
import { createStallWatch } from './stallWatch.ts';

/** What a host does for the requests that differ between hosts. */
export interface HostHandlers {
  prepare(request: Extract<HostRequest, { type: 'prepare' }>): Promise<HostReply>;
  tokens(request: Extract<HostRequest, { type: 'tokens' }>): Promise<HostReply>;
  go(request: Extract<HostRequest, { type: 'go' }>): HostReply;
  cleanup(request: Extract<HostRequest, { type: 'cleanup' }>): Promise<HostReply>;
  subscriptions(): number;
  close(): Promise<void>;
}

function send(reply: HostReply): void {
  process.send?.(reply);
}

/**
 * The request loop every server host runs: answers the parent's requests over IPC, with stats
 * (RSS, heap, CPU, after a GC when asked), CPU profiling through the inspector, and shutdown.
 * The host exits when the parent goes away, so that no server outlives the bench.
 */
export function serveHost(handlers: HostHandlers): void {
  let session: Session | undefined;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const stallWatch = createStallWatch();
  // Garbage-collection pauses since the last reset: a pause holds every delivery behind it.
  let pauses = { count: 0, totalMs: 0, maxMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      pauses.count += 1;
      pauses.totalMs += entry.duration;
      pauses.maxMs = Math.max(pauses.maxMs, entry.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await handlers.close().catch(() => {});
  };
  process.on('disconnect', () => {
    void shutdown().finally(() => process.exit(0));
  });
  process.on('message', (raw) => {
    const request = raw as HostRequest;
    void (async (): Promise<HostReply> => {
      switch (request.type) {
        case 'prepare':
          return handlers.prepare(request);
        case 'tokens':
          return handlers.tokens(request);
        case 'go':
          return handlers.go(request);
        case 'cleanup':
          return handlers.cleanup(request);
        case 'stats': {
          const gc = (globalThis as { gc?: () => void }).gc;
          if (request.gc && gc !== undefined) {
            gc();
            await new Promise((resolve) => setImmediate(resolve));
            gc();
          }
          const cpu = process.cpuUsage();
          const mem = process.memoryUsage();
          const reply: HostReply = {
            type: 'stats',
            id: request.id,
            rssBytes: mem.rss,
            heapUsedBytes: mem.heapUsed,
            cpuUserUs: cpu.user,
            cpuSystemUs: cpu.system,
            subscriptions: handlers.subscriptions(),
            loopDelay: loopDelayOf(loop, request.resetLoopDelay === true),
            gc: {
              count: pauses.count,
              totalMs: Math.round(pauses.totalMs * 10) / 10,
              maxMs: Math.round(pauses.maxMs * 10) / 10,
            },
            stalls: stallWatch.read(request.resetLoopDelay === true),
          };
          if (request.resetLoopDelay === true) pauses = { count: 0, totalMs: 0, maxMs: 0 };
          return reply;
        }
        case 'profileStart':
          session = new Session();
          session.connect();
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: 200 });
          await session.post('Profiler.start');
          return { type: 'ok', id: request.id };
        case 'profileStop': {
          if (session === undefined) return { type: 'error', id: request.id, message: 'no profile running' };
          const { profile } = await session.post('Profiler.stop');
          session.disconnect();
          session = undefined;
          writeFileSync(request.path, JSON.stringify(profile));
          return { type: 'profileStopped', id: request.id, path: request.path };
        }
        case 'shutdown':
          await shutdown();
          return { type: 'ok', id: request.id };
        default: {
          const never: never = request;
          return { type: 'error', id: -1, message: `unknown request ${JSON.stringify(never)}` };
        }
      }
    })()
      .catch(
        (error: unknown): HostReply => ({
          type: 'error',
          id: request.id,
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
      )
      .then((reply) => {
        send(reply);
        if (request.type === 'shutdown') setTimeout(() => process.exit(0), 50);
      });
  });
}

/** The histogram's p50, p99 and max in ms (0 when empty), optionally starting a new window. */
export function loopDelayOf(
  histogram: ReturnType<typeof monitorEventLoopDelay>,
  reset: boolean,
): { p50: number; p99: number; max: number } {
  const ms = (ns: number) => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0);
  const out =
    histogram.count === 0
      ? { p50: 0, p99: 0, max: 0 }
      : { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
  if (reset) histogram.reset();
  return out;
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes. */
export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
