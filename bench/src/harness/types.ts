/** The shapes of benchmark results: what every benchmark returns and `results/latest.json` holds. */

/** Units a figure can be in. Times per operation are in microseconds unless the unit says otherwise. */
export type Unit = 'ns' | 'µs' | 'ms' | 'B' | 'KB' | 'MB' | 'events/s' | 'rows/s' | 'runs/s' | 'ratio' | '%' | 'count';

/** A target from the issue: `value op threshold`, in the figure's own unit (or on its ratio). */
export interface Target {
  /** `<=`: at most; `>=`: at least. */
  readonly op: '<=' | '>=';
  readonly threshold: number;
  /** What is compared: the figure's value (default) or its ratio to the baseline. */
  readonly on?: 'value' | 'ratio';
  /** How the issue says it, e.g. "≤ 2 µs per call". */
  readonly text: string;
}

/** A baseline measured in the same run. */
export interface Baseline {
  readonly label: string;
  readonly value: number;
  readonly unit: Unit;
}

/** One measured figure. */
export interface Figure {
  /** Stable id, `<benchmark>.<figure>`, e.g. `dispatch.perCall`. */
  readonly id: string;
  readonly label: string;
  /** `null` when it could not be measured (see `note`). */
  readonly value: number | null;
  readonly unit: Unit;
  readonly baseline?: Baseline;
  /** `value / baseline.value`. */
  readonly ratio?: number | null;
  readonly target?: Target;
  /** Whether the target is met; `null` without a target or without a value. */
  readonly met: boolean | null;
  readonly note?: string;
}

/** What one benchmark produced. */
export interface BenchmarkResult {
  readonly name: string;
  readonly title: string;
  readonly figures: Figure[];
  /** Free-form facts worth keeping next to the figures (sample counts, settings, profile summaries). */
  readonly details?: Record<string, unknown>;
  /** Set when the benchmark failed; its figures are whatever it had measured by then. */
  readonly error?: string;
  readonly durationMs: number;
}

/** The machine a run was on. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryMB: number;
  readonly node: string;
  readonly platform: string;
  readonly loadAverage: readonly number[];
}

/** The whole results file. */
export interface RunResults {
  readonly schemaVersion: 1;
  readonly command: string;
  readonly mode: 'full' | 'quick';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly commit: string | null;
  readonly machine: MachineInfo;
  readonly benchmarks: BenchmarkResult[];
}
