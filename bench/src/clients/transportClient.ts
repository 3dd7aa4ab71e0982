import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RunEvent } from '@toolrun/api';
import { percentile } from '../harness/stats.ts';
import { loopDelayOf } from '../servers/hostRuntime.ts';
import { emittedAtOf, epochMs } from '../servers/payload.ts';
import type {
  ClientReader,
  ClientReply,
  ClientRequest,
  LatencySummary,
  StreamUser,
  TransportName,
} from '../servers/protocol.ts';
import { createStallWatch } from '../servers/stallWatch.ts';
import { type OpenSubscription, type SubscriptionTarget, subscribe } from './transports.ts';

/**
 * The client side of the transport benchmarks, in a process of its own: subscribes every user
 * (to their run, or to their feed for idle connections), reports `ready` once each subscription is
 * live, then measures what arrives after `go`: events, messages, emit-to-receipt latency, CPU.
 * Driven by the parent over IPC; exits when told to close or when the parent goes away.
 */
const CONNECT_CONCURRENCY = 400;

const subscriptions: OpenSubscription[] = [];
let errors = 0;
let firstError: string | undefined;

function send(reply: ClientReply): void {
  process.send?.(reply);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function noteError(error: unknown): void {
  errors += 1;
  firstError ??= describe(error);
}

/** Opens every subscription, at most {@link CONNECT_CONCURRENCY} connecting at once. */
async function connectAll(opts: {
  transport: TransportName;
  reader: ClientReader;
  url: string;
  users: readonly StreamUser[];
  target: SubscriptionTarget;
  /** A subscription counts as live at its first message (run) or when it starts (feed). */
  liveOn: 'message' | 'started';
  /** `readAt`: when the reader read the message's bytes, if it knows (else the time of the callback). */
  onMessage(events: readonly RunEvent[], receivedAt: number, readKnown: boolean): void;
  onRunComplete(): void;
}): Promise<{ connected: number; failed: number }> {
  let connected = 0;
  let failed = 0;
  let next = 0;
  await new Promise<void>((resolve) => {
    let pending = 0;
    const pump = () => {
      while (pending < CONNECT_CONCURRENCY && next < opts.users.length) {
        const user = opts.users[next++] as StreamUser;
        pending += 1;
        let live = false;
        let settled = false;
        const settle = (ok: boolean) => {
          if (settled) return;
          settled = true;
          pending -= 1;
          if (ok) connected += 1;
          else failed += 1;
          if (connected + failed === opts.users.length) resolve();
          else pump();
        };
        subscriptions.push(
          subscribe({
            transport: opts.transport,
            reader: opts.reader,
            url: opts.url,
            user,
            target: opts.target,
            handlers: {
              onStarted() {
                if (opts.liveOn === 'started') settle(true);
              },
              onMessage(events, readAt) {
                const receivedAt = readAt ?? epochMs();
                if (!live && opts.liveOn === 'message') {
                  live = true;
                  settle(true);
                }
                opts.onMessage(events, receivedAt, readAt !== undefined);
              },
              onError(error) {
                noteError(error);
                settle(false);
              },
              onComplete() {
                opts.onRunComplete();
              },
            },
          }),
        );
      }
    };
    if (opts.users.length === 0) resolve();
    else pump();
  });
  return { connected, failed };
}

async function stream(request: Extract<ClientRequest, { type: 'stream' }>): Promise<void> {
  const latencies = new Float64Array(Math.max(1, request.users.length * request.perRun));
  // The client's own time per message, from reading its bytes to having handled it.
  const processing: number[] = [];
  let received = 0;
  let messages = 0;
  let completedRuns = 0;
  let firstAt: number | null = null;
  let lastAt: number | null = null;
  let measuring = false;
  let finish: (timedOut: boolean) => void = () => {};
  const finished = new Promise<boolean>((resolve) => {
    finish = resolve;
  });
  const ready = await connectAll({
    transport: request.transport,
    reader: request.reader,
    url: request.url,
    users: request.users,
    target: 'run',
    liveOn: 'message',
    onMessage(events, receivedAt, readKnown) {
      messages += 1;
      for (const event of events) {
        if (event.type === 'agent_thinking') {
          if (received < latencies.length) latencies[received] = receivedAt - emittedAtOf(event.text);
          received += 1;
          firstAt ??= receivedAt;
          lastAt = receivedAt;
        } else if (event.type === 'agent_completed') {
          completedRuns += 1;
          if (measuring && completedRuns === request.users.length) finish(false);
        }
      }
      // Every message counts, as every event does: a fast server can deliver before the client hears `go`.
      if (readKnown) processing.push(epochMs() - receivedAt);
    },
    onRunComplete() {},
  });
  send({ type: 'ready', ...ready, ...(firstError === undefined ? {} : { firstError }) });
  const go = await nextGo();
  measuring = true;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const stallWatch = createStallWatch();
  const cpu0 = process.cpuUsage();
  if (completedRuns === request.users.length) finish(false);
  const timer = setTimeout(() => finish(true), Math.max(0, go.at + request.deadlineMs - epochMs()));
  const timedOut = await finished;
  clearTimeout(timer);
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  stallWatch.stop();
  // Events that never arrived count as infinitely late: a percentile that lands on them is Infinity.
  const expected = request.users.length * request.perRun;
  const measured = latencies.slice(0, Math.min(received, latencies.length));
  const values = Array.from(measured);
  for (let i = values.length; i < expected; i += 1) values.push(Number.POSITIVE_INFINITY);
  send({
    type: 'result',
    received,
    completedRuns,
    messages,
    firstAt,
    lastAt,
    latency: summarize(values),
    ...(processing.length === 0 ? {} : { processing: summarize(processing) }),
    samples: measured,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    loopDelay: loopDelayOf(loop, false),
    stalls: stallWatch.read(false),
    timedOut,
  });
}

/** Percentiles of `values` (ms). */
function summarize(values: readonly number[]): LatencySummary {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.reduce((a, b) => Math.max(a, b), Number.NaN),
  };
}

async function idle(request: Extract<ClientRequest, { type: 'idle' }>): Promise<void> {
  const ready = await connectAll({
    transport: request.transport,
    reader: request.reader,
    url: request.url,
    users: request.users,
    target: 'feed',
    // Raw ws greets with a first message; a tRPC feed is live once started.
    liveOn: request.transport === 'raw-ws' ? 'message' : 'started',
    onMessage() {},
    onRunComplete() {},
  });
  send({ type: 'ready', ...ready, ...(firstError === undefined ? {} : { firstError }) });
}

let goWaiter: ((go: Extract<ClientRequest, { type: 'go' }>) => void) | undefined;
function nextGo(): Promise<Extract<ClientRequest, { type: 'go' }>> {
  return new Promise((resolve) => {
    goWaiter = resolve;
  });
}

function closeAll(): void {
  for (const sub of subscriptions.splice(0)) {
    try {
      sub.close();
    } catch {
      // Closing is best effort; the process exits next.
    }
  }
}

process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});
process.on('message', (raw) => {
  const request = raw as ClientRequest;
  switch (request.type) {
    case 'stream':
      void stream(request);
      return;
    case 'idle':
      void idle(request);
      return;
    case 'go':
      goWaiter?.(request);
      return;
    case 'close':
      closeAll();
      setTimeout(() => process.exit(0), 100);
      return;
    default: {
      const never: never = request;
      noteError(new Error(`unknown request ${JSON.stringify(never)}`));
    }
  }
});

send({ type: 'hello' });
