import { defineAgent } from '@toolrun/dispatcher';
import { z } from 'zod';
import { pace } from './pace.ts';
import { envelopeBytes, epochMs, thinkingText } from './payload.ts';

/** Gates the bench's runs wait at, so that every run of a scenario starts emitting at once. */
const gates = new Map<string, { promise: Promise<void>; open: () => void }>();

function gateOf(name: string): { promise: Promise<void>; open: () => void } {
  let gate = gates.get(name);
  if (gate === undefined) {
    let open = () => {};
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    gate = { promise, open };
    gates.set(name, gate);
  }
  return gate;
}

/** Opens a gate: its runs start emitting. */
export function openGate(name: string): void {
  gateOf(name).open();
  gates.delete(name);
}

/** Opens every gate runs wait at in this process (a cluster worker does not know its runs' gate names). */
export function openAllGates(): void {
  for (const name of [...gates.keys()]) openGate(name);
}

export const benchStreamInput = z.object({
  gate: z.string().min(1).max(64),
  count: z.number().int().min(1).max(1_000_000),
  ratePerSec: z.number().positive().max(1_000_000).optional(),
  burst: z.number().int().min(1).max(10_000).default(1),
});

/**
 * A bench-only agent: waits at its gate, then emits `count` `agent_thinking` events of about 300
 * bytes, each carrying its emit time, at `ratePerSec` or as fast as the event loop allows (`burst`
 * per turn), then completes. Registered through `startServer({ extraAgents })`.
 */
export const benchStreamAgent = defineAgent({
  name: 'bench_stream',
  description: 'Benchmark load: emits timestamped agent_thinking events at a given rate',
  input: benchStreamInput,
  async run(input, ctx) {
    const signal = ctx.signal;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void gateOf(input.gate).promise.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    const envelope = envelopeBytes(ctx.context);
    const emitted = await pace({
      count: input.count,
      ratePerSec: input.ratePerSec,
      burst: input.burst,
      phase: Math.random(),
      signal,
      emit: () => ctx.think(thinkingText(epochMs(), envelope)),
    });
    return { emitted };
  },
});
