/**
 * Order statistics for benchmark samples. Every function takes samples in any order and leaves
 * them untouched.
 */

/** The values sorted ascending, in a new array. */
export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/**
 * The `p`-th percentile (0–100) by linear interpolation between the closest ranks, the definition
 * numpy and most spreadsheets use. `NaN` for no samples.
 *
 * @example
 * percentile([1, 2, 3, 4], 50); // 2.5
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, not ${p}`);
  const s = sorted(values);
  const rank = (p / 100) * (s.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = s[low] as number;
  const b = s[high] as number;
  // Written so that infinite samples (events that never arrived) give Infinity, not NaN.
  if (low === high || a === b) return a;
  return a + (b - a) * (rank - low);
}

/** The median (50th percentile). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The arithmetic mean; `NaN` for no samples. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * `value / baseline`, or `null` when either is not a finite number or the baseline is not positive.
 */
export function ratio(value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || !Number.isFinite(value) || !Number.isFinite(baseline)) return null;
  // A ratio against nothing (or against a negative figure, e.g. RSS noise) is not a figure.
  if (baseline <= 0) return null;
  return value / baseline;
}

/**
 * The spread of a set of figures that should be equal: `max / min - 1` (0.1 is "within 10%").
 * `null` for fewer than two values or a non-positive one.
 */
export function spread(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v) || v <= 0) return null;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return max / min - 1;
}

/** Rounds to `digits` significant digits, so that figures in the results file do not carry noise. */
export function significant(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}
