import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { serveHost, waitUntil } from './hostRuntime.ts';
import { pace } from './pace.ts';
import { envelopeBytes, epochMs, thinkingText } from './payload.ts';
import type { StreamPlan, StreamUser } from './protocol.ts';

/**
 * The baseline: a raw `ws` server on node:http streaming the same ~300-byte `agent_thinking`
 * payloads on the same schedule as the Toolrun bench agent, one JSON message per event, with no
 * persistence, no tRPC and no dispatcher. A client connects to `/?user=<id>&token=<token>`.
 */
interface RawRun {
  user: StreamUser;
  threadId: string;
  socket: WebSocket | undefined;
}

const runs = new Map<string, RawRun>();
let plan: StreamPlan | undefined;
let stop = new AbortController();
// The server sends at most this much ahead of a slow socket in flood mode.
const MAX_BUFFERED = 1 << 20;

const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http });
wss.on('connection', (socket, req) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const run = runs.get(url.searchParams.get('user') ?? '');
  if (run === undefined || run.user.token !== url.searchParams.get('token')) {
    socket.close(4401, 'unknown user or token');
    return;
  }
  run.socket = socket;
  socket.on('close', () => {
    if (run.socket === socket) run.socket = undefined;
  });
  const { user } = run;
  const base = { runId: user.runId, userId: user.userId, threadId: run.threadId };
  // The first message, as a subscription's replay of agent_started: the client knows it is live.
  socket.send(
    JSON.stringify({ id: `${user.runId}:1`, seq: 1, ...base, at: new Date().toISOString(), type: 'agent_started' }),
  );
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const address = http.address() as AddressInfo;

function stream(run: RawRun, current: StreamPlan, signal: AbortSignal): Promise<void> {
  const socket = run.socket;
  if (socket === undefined) return Promise.resolve();
  const { user, threadId } = run;
  const envelope = envelopeBytes({ runId: user.runId, userId: user.userId, threadId });
  const at = () => new Date().toISOString();
  return pace({
    count: current.perRun,
    ratePerSec: current.ratePerRun,
    burst: current.burst,
    phase: Math.random(),
    signal,
    blocked: () => socket.bufferedAmount > MAX_BUFFERED,
    emit: (i) => {
      if (socket.readyState !== WebSocket.OPEN) return;
      const seq = i + 2;
      socket.send(
        JSON.stringify({
          id: `${user.runId}:${seq}`,
          seq,
          runId: user.runId,
          userId: user.userId,
          threadId,
          at: at(),
          type: 'agent_thinking',
          text: thinkingText(epochMs(), envelope),
          step: i + 1,
        }),
      );
    },
  }).then((emitted) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    const seq = emitted + 2;
    socket.send(
      JSON.stringify({
        id: `${user.runId}:${seq}`,
        seq,
        runId: user.runId,
        userId: user.userId,
        threadId,
        at: at(),
        type: 'agent_completed',
        status: 'completed',
        result: { emitted },
        durationMs: 0,
        toolCalls: 0,
      }),
    );
  });
}

function makeUsers(count: number, prefix: string): StreamUser[] {
  const users: StreamUser[] = [];
  for (let i = 0; i < count; i += 1) {
    const user = { userId: `${prefix}${i}`, token: randomUUID(), runId: `run_${randomUUID()}` };
    runs.set(user.userId, { user, threadId: `thread_${randomUUID()}`, socket: undefined });
    users.push(user);
  }
  return users;
}

serveHost({
  async prepare(request) {
    runs.clear();
    plan = request.plan;
    stop = new AbortController();
    return { type: 'prepared', id: request.id, users: makeUsers(request.users, request.prefix) };
  },
  async tokens(request) {
    runs.clear();
    return { type: 'tokens', id: request.id, users: makeUsers(request.users, request.prefix) };
  },
  go(request) {
    const at = epochMs();
    const current = plan;
    if (current !== undefined) for (const run of runs.values()) void stream(run, current, stop.signal);
    return { type: 'went', id: request.id, at };
  },
  async cleanup(request) {
    stop.abort();
    await waitUntil(() => wss.clients.size === 0, 5_000);
    runs.clear();
    return { type: 'cleaned', id: request.id, activeRuns: 0 };
  },
  subscriptions: () => wss.clients.size,
  async close() {
    stop.abort();
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => http.close(() => resolve()));
  },
});

process.send?.({ type: 'listening', url: `http://127.0.0.1:${address.port}`, pid: process.pid });
