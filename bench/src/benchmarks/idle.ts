import type { Benchmark } from '../harness/benchmark.ts';
import { figure } from '../harness/figure.ts';
import type { Figure } from '../harness/types.ts';
import type { TransportName } from '../servers/protocol.ts';
import { hostKindOf, type RemoteClient, startClient, startHost, transportsFor } from '../servers/remote.ts';
import { LABEL } from '../servers/runScenario.ts';

/** RSS of one transport's server with idle subscriptions. */
interface IdleResult {
  transport: TransportName;
  baseRssMB: number;
  steps: { subscriptions: number; connected: number; failed: number; rssMB: number; perSubscriptionKB: number }[];
  firstError?: string;
}

/**
 * (7) Idle capacity: server RSS (after a GC) with 1,000 and 5,000 idle subscriptions, each a user's
 * `runs.feed` over tRPC SSE or tRPC WebSocket (one socket per user), next to raw ws connections.
 * A fresh server process per transport; the clients in separate processes (one per step).
 */
export const idleBenchmark: Benchmark = {
  name: 'idle',
  title: 'server RSS with idle subscriptions',
  async run(ctx) {
    const steps = ctx.quick ? [300] : [1_000, 5_000];
    const results: IdleResult[] = [];
    // Where SQLite commits does not change an idle subscription's memory.
    const transports = transportsFor(ctx.quick).filter((t) => t !== 'trpc-ws-inline-db');
    for (const transport of transports) {
      if (ctx.signal.aborted) break;
      const host = await startHost({
        kind: hostKindOf(transport),
        benchRoot: ctx.benchRoot,
        execArgv: ['--expose-gc'],
      });
      const clients: RemoteClient[] = [];
      const started = Date.now();
      try {
        const total = steps.at(-1) ?? 0;
        const users = await host.tokens(total, `idle_${transport.replace('-', '_')}_`);
        const base = (await host.stats(true)).rssBytes;
        const result: IdleResult = { transport, baseRssMB: base / 1_048_576, steps: [] };
        let opened = 0;
        let connected = 0;
        let failed = 0;
        for (const step of steps) {
          const client = startClient({
            benchRoot: ctx.benchRoot,
            job: { type: 'idle', transport, reader: 'official', url: host.url, users: users.slice(opened, step) },
            readyTimeoutMs: 180_000,
          });
          clients.push(client);
          const ready = await client.ready;
          opened = step;
          connected += ready.connected;
          failed += ready.failed;
          if (ready.firstError !== undefined) result.firstError ??= ready.firstError;
          // Let the server settle its per-connection work (first pings, buffers) before measuring.
          await new Promise((resolve) => setTimeout(resolve, 500));
          const stats = await host.stats(true);
          const perSubscription = connected > 0 ? (stats.rssBytes - base) / connected / 1024 : Number.NaN;
          result.steps.push({
            subscriptions: step,
            connected,
            failed,
            rssMB: stats.rssBytes / 1_048_576,
            perSubscriptionKB: perSubscription,
          });
          ctx.log(
            `  ${LABEL[transport].padEnd(11)} ${connected} idle subscriptions (server counts ${stats.subscriptions}): ` +
              `RSS ${(stats.rssBytes / 1_048_576).toFixed(1)} MB, ${perSubscription.toFixed(1)} KB each ` +
              `(${((Date.now() - started) / 1000).toFixed(1)} s)`,
          );
        }
        results.push(result);
      } catch (error) {
        ctx.log(`  ${transport} idle failed: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
        await host.close();
        ctx.log(`  ${LABEL[transport].padEnd(11)} closed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
    }
    const figures: Figure[] = [];
    for (const step of steps) {
      const raw = results.find((r) => r.transport === 'raw-ws')?.steps.find((s) => s.subscriptions === step);
      for (const transport of transports) {
        const s = results.find((r) => r.transport === transport)?.steps.find((x) => x.subscriptions === step);
        figures.push(
          figure({
            id: `idle.perSubscription.${transport}.${step}`,
            label: `${LABEL[transport]}: server RSS per idle subscription, ${step.toLocaleString('en-US')} open`,
            value: s?.perSubscriptionKB ?? null,
            unit: 'KB',
            ...(transport === 'raw-ws' || raw === undefined
              ? {}
              : { baseline: { label: 'raw ws', value: raw.perSubscriptionKB, unit: 'KB' as const } }),
            ...(s === undefined
              ? { note: 'not measured' }
              : s.failed > 0
                ? { note: `${s.failed} subscriptions failed to open` }
                : {}),
          }),
          figure({
            id: `idle.rss.${transport}.${step}`,
            label: `${LABEL[transport]}: server RSS with ${step.toLocaleString('en-US')} idle subscriptions`,
            value: s?.rssMB ?? null,
            unit: 'MB',
          }),
        );
      }
    }
    return { figures, details: { results } };
  },
};
