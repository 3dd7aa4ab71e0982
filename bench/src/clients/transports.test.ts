import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '@toolrun/api';
import { type RunningServer, startServer } from '@toolrun/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchStreamAgent, openGate } from '../servers/benchStreamAgent.ts';
import type { ClientReader, StreamUser, TransportName } from '../servers/protocol.ts';
import { subscribe } from './transports.ts';

let server: RunningServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'toolrun-bench-readers-'));
  server = await startServer({
    database: join(dir, 'toolrun.db'),
    dataDir: dir,
    auth: { mode: 'dev', secret: 'toolrun-bench-secret-0123456789abcdef' },
    consoleDir: join(dir, 'no-console'),
    extraAgents: [benchStreamAgent],
    graceMs: 1_000,
  });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A user with a bench run of `count` events waiting at `gate`. */
async function userWithRun(userId: string, gate: string, count: number): Promise<StreamUser> {
  const { services } = server;
  const context = services.factory.createContext({ userId, roles: ['user'] });
  const handle = services.factory.startRun({ context, agent: benchStreamAgent.name, input: { gate, count } });
  await services.sink.flush();
  return { userId, token: (await services.auth.issue({ userId, roles: ['user'] })).token, runId: handle.runId };
}

/** Every event the reader receives, in order, until the run's stream completes. */
function readRun(transport: TransportName, reader: ClientReader, user: StreamUser, gate: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  return new Promise((resolve, reject) => {
    const sub = subscribe({
      transport,
      reader,
      url: server.url,
      user,
      target: 'run',
      handlers: {
        onStarted: () => {},
        onMessage: (batch) => {
          events.push(...batch);
          // The history (agent_started) is in: let the run go.
          if (batch.some((e) => e.type === 'agent_started')) openGate(gate);
        },
        onError: (error) => {
          sub.close();
          reject(error);
        },
        onComplete: () => {
          sub.close();
          resolve(events);
        },
      },
    });
  });
}

describe("the bench's readers against a real server", () => {
  for (const transport of ['trpc-sse', 'trpc-ws'] as const) {
    it(`the lean reader receives over ${transport} exactly the events the official client does`, async () => {
      const official = await userWithRun(`official-${transport}`, `g-official-${transport}`, 5);
      const lean = await userWithRun(`lean-${transport}`, `g-lean-${transport}`, 5);
      const [byOfficial, byLean] = await Promise.all([
        readRun(transport, 'official', official, `g-official-${transport}`),
        readRun(transport, 'lean', lean, `g-lean-${transport}`),
      ]);
      const shape = (events: RunEvent[]) => events.map((e) => `${e.seq}:${e.type}`);
      expect(shape(byLean)).toEqual([
        '1:agent_started',
        ...[2, 3, 4, 5, 6].map((s) => `${s}:agent_thinking`),
        '7:agent_completed',
      ]);
      expect(shape(byLean)).toEqual(shape(byOfficial));
      // The payloads arrive whole, each as the server stored it.
      expect(byLean.filter((e) => e.type === 'agent_thinking')).toHaveLength(5);
      expect(byLean.every((e) => e.runId === lean.runId)).toBe(true);
    });
  }
});
