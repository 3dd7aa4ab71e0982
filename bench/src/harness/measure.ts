/** Timing with warm-up, interleaved repetitions and a time bound. */

/** One thing to time: `batch(n)` performs `n` operations back to back. */
export interface Variant {
  readonly name: string;
  /** Untimed set-up before each batch (e.g. minting the contexts the batch will use). */
  prepare?(n: number): void | Promise<void>;
  batch(n: number): void | Promise<void>;
}

/** Options of {@link compare}. */
export interface CompareOptions {
  readonly variants: readonly Variant[];
  /** Operations per timed batch: enough that the timer's own cost (tens of ns) vanishes. */
  readonly opsPerBatch: number;
  /** Untimed batches per variant before the first sample (JIT warm-up). */
  readonly warmupBatches: number;
  /** …and at least this long per variant (optimising compilers need time, not just calls). */
  readonly warmupMs?: number;
  /** Samples per variant, at most. */
  readonly reps: number;
  /** At least this many samples per variant, whatever the time bound says. */
  readonly minReps?: number;
  /** Stops taking samples after this long (warm-up included). */
  readonly maxMs: number;
  readonly signal?: AbortSignal;
}

/** Nanoseconds on the monotonic clock. */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/**
 * Times several variants in the same run, interleaved (A B C, B C A, C A B, …) so that a noisy
 * neighbour slows them all alike. Returns each variant's samples in nanoseconds per operation.
 * Stops after `reps` rounds, or when `maxMs` has passed (but never before `minReps` rounds), or
 * when `signal` aborts.
 */
export async function compare(opts: CompareOptions): Promise<Map<string, number[]>> {
  const started = Date.now();
  const samples = new Map<string, number[]>(opts.variants.map((v) => [v.name, []]));
  for (const variant of opts.variants) {
    const warmUntil = Date.now() + (opts.warmupMs ?? 0);
    for (let i = 0; (i < opts.warmupBatches || Date.now() < warmUntil) && i < opts.warmupBatches * 100; i += 1) {
      if (opts.signal?.aborted) break;
      await variant.prepare?.(opts.opsPerBatch);
      await variant.batch(opts.opsPerBatch);
    }
  }
  const minReps = Math.min(opts.minReps ?? 3, opts.reps);
  const count = opts.variants.length;
  for (let rep = 0; rep < opts.reps; rep += 1) {
    if (opts.signal?.aborted) break;
    if (rep >= minReps && Date.now() - started > opts.maxMs) break;
    for (let k = 0; k < count; k += 1) {
      const variant = opts.variants[(rep + k) % count] as Variant;
      await variant.prepare?.(opts.opsPerBatch);
      const t0 = nowNs();
      await variant.batch(opts.opsPerBatch);
      const elapsed = nowNs() - t0;
      samples.get(variant.name)?.push(elapsed / opts.opsPerBatch);
    }
  }
  return samples;
}

/** Runs a full garbage collection (twice, so that finalizers' garbage goes too). Needs `--expose-gc`. */
export async function collectGarbage(): Promise<boolean> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  for (let i = 0; i < 3; i += 1) {
    gc();
    // FinalizationRegistry callbacks and weak-ref clean-up run in later tasks.
    await new Promise((resolve) => setImmediate(resolve));
  }
  gc();
  return true;
}

/** Heap in use after a full collection, in bytes; `null` without `--expose-gc`. */
export async function settledHeap(): Promise<number | null> {
  if (!(await collectGarbage())) return null;
  return process.memoryUsage().heapUsed;
}
