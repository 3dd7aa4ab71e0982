import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchContext } from '../src/harness/benchmark.ts';
import type { ClientReader, TransportName } from '../src/servers/protocol.ts';
import { type HostKind, hostKindOf, type RemoteHost, startHost } from '../src/servers/remote.ts';
import { runScenario } from '../src/servers/runScenario.ts';

// Real processes: a real Toolrun server (startServer, SQLite in a temp folder), the raw ws
// baseline and a client process per scenario, on loopback. Small loads; nothing about speed.
const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ctx: BenchContext = {
  quick: true,
  signal: new AbortController().signal,
  repoRoot: resolve(benchRoot, '..'),
  benchRoot,
  profile: false,
  buildWeb: false,
  log: () => {},
};
const hosts = new Map<HostKind, RemoteHost>();

beforeAll(async () => {
  const kinds: HostKind[] = ['raw-ws', 'toolrun', 'toolrun-stock-sse'];
  const started = await Promise.all(kinds.map((kind) => startHost({ kind, benchRoot })));
  for (const [i, host] of started.entries()) hosts.set(kinds[i] as HostKind, host);
}, 90_000);

afterAll(async () => {
  await Promise.all([...hosts.values()].map((host) => host.close()));
}, 60_000);

/** A small scenario over tRPC wsLink on the Toolrun host. */
function onToolrunWs(
  opts: Pick<Parameters<typeof runScenario>[0], 'users' | 'mode' | 'plan' | 'offered' | 'clients'>,
): ReturnType<typeof runScenario> {
  const host = hosts.get('toolrun');
  if (host === undefined) throw new Error('no host');
  return runScenario({ ctx, host, transport: 'trpc-ws', deadlineMs: 20_000, ...opts });
}

const CASES: [TransportName, ClientReader][] = [
  ['raw-ws', 'lean'],
  ['trpc-ws', 'lean'],
  ['trpc-sse', 'lean'],
  ['trpc-sse-stock', 'lean'],
  ['trpc-ws', 'official'],
  ['trpc-sse', 'official'],
];

describe('a transport scenario', () => {
  it.each(CASES)(
    'over %s, read by the %s reader, delivers every event of every user once, with its emit time, and cleans up',
    async (transport, reader) => {
      const host = hosts.get(hostKindOf(transport));
      if (host === undefined) throw new Error('no host');
      const result = await runScenario({
        ctx,
        host,
        transport,
        reader,
        users: 3,
        mode: 'max',
        plan: { perRun: 20, burst: 5 },
        offered: null,
        deadlineMs: 20_000,
      });
      expect(result).toMatchObject({ expected: 60, received: 60, connectFailures: 0, errors: 0, timedOut: false });
      expect(result.messages).toBeGreaterThanOrEqual(3);
      // Emit-to-receipt times are real measurements: finite and not negative beyond clock jitter.
      expect(Number.isFinite(result.p99Ms)).toBe(true);
      expect(result.p50Ms).toBeGreaterThan(-1);
      // The split: the server's share comes from its own histogram (tRPC through the server's writers),
      // the client's from readers that know when they read (lean, raw ws).
      const timedByServer = transport === 'trpc-ws' || transport === 'trpc-sse';
      expect(result.serverP99Ms === null).toBe(!timedByServer);
      expect(result.clientP99Ms === null).toBe(reader === 'official' && transport !== 'raw-ws');
      if (timedByServer) expect(result.serverP99Ms).toBeGreaterThanOrEqual(0);
      expect(result.queueP99Ms).toBeGreaterThanOrEqual(0);
      const stats = await host.stats(false);
      expect(stats.subscriptions).toBe(0);
    },
    60_000,
  );

  it('deals the users out among several client processes and merges what they measured', async () => {
    const result = await onToolrunWs({
      users: 5,
      mode: 'max',
      plan: { perRun: 10, burst: 5 },
      offered: null,
      clients: 2,
    });
    expect(result).toMatchObject({ clientProcesses: 2, expected: 50, received: 50, errors: 0, timedOut: false });
    expect(Number.isFinite(result.p99Ms)).toBe(true);
  }, 60_000);

  it('paces a fixed rate and reports the server CPU it cost', async () => {
    const result = await onToolrunWs({
      users: 2,
      mode: 'rate',
      plan: { perRun: 10, ratePerRun: 200, burst: 1 },
      offered: 400,
    });
    expect(result).toMatchObject({ expected: 20, received: 20, timedOut: false });
    expect(result.serverCpuUsPerEvent).toBeGreaterThan(0);
  }, 60_000);
});
