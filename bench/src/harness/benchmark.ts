import type { BenchmarkResult, Figure } from './types.ts';

/** What every benchmark gets. */
export interface BenchContext {
  /** Seconds rather than minutes: fewer repetitions, smaller loads. */
  readonly quick: boolean;
  /** Aborted on Ctrl-C: stop measuring and clean up. */
  readonly signal: AbortSignal;
  /** The repository root (`/…/toolrun`). */
  readonly repoRoot: string;
  /** The bench workspace (`/…/toolrun/bench`). */
  readonly benchRoot: string;
  /** After measuring, profile once (CPU, heap) and report the hottest functions in the details. */
  readonly profile: boolean;
  /** Build the console before measuring it (otherwise read what `apps/web/dist` holds). */
  readonly buildWeb: boolean;
  /** Transport benchmark: only these user counts (absent or empty: all). */
  readonly users?: readonly number[];
  /** A progress line on stderr. */
  log(message: string): void;
}

/** What a benchmark's `run` returns. */
export interface BenchmarkOutput {
  figures: Figure[];
  details?: Record<string, unknown>;
}

/** One benchmark: one file under `src/benchmarks/`. */
export interface Benchmark {
  /** For `--only`, and the prefix of its figures' ids. */
  readonly name: string;
  readonly title: string;
  run(ctx: BenchContext): Promise<BenchmarkOutput>;
}

/**
 * Runs benchmarks one after another. A benchmark that throws is recorded with its error and the
 * others still run: the bench always finishes and always writes its results.
 */
export async function runBenchmarks(benchmarks: readonly Benchmark[], ctx: BenchContext): Promise<BenchmarkResult[]> {
  const results: BenchmarkResult[] = [];
  for (const bench of benchmarks) {
    if (ctx.signal.aborted) break;
    ctx.log(`▶ ${bench.name}: ${bench.title}`);
    const started = performance.now();
    try {
      const output = await bench.run(ctx);
      results.push({
        name: bench.name,
        title: bench.title,
        figures: output.figures,
        ...(output.details === undefined ? {} : { details: output.details }),
        durationMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      ctx.log(`✖ ${bench.name} failed: ${message}`);
      results.push({
        name: bench.name,
        title: bench.title,
        figures: [],
        error: message,
        durationMs: Math.round(performance.now() - started),
      });
    }
    ctx.log(`  ${bench.name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return results;
}

/** The benchmarks `--only` selects (comma-separated names; all when empty). Unknown names throw. */
export function selectBenchmarks(all: readonly Benchmark[], only: readonly string[]): Benchmark[] {
  if (only.length === 0) return [...all];
  const names = new Set(
    only
      .flatMap((o) => o.split(','))
      .map((n) => n.trim())
      .filter((n) => n !== ''),
  );
  const unknown = [...names].filter((n) => !all.some((b) => b.name === n));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${all.map((b) => b.name).join(', ')}`);
  }
  return all.filter((b) => names.has(b.name));
}
