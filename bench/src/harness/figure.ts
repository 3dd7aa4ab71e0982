import { ratio as ratioOf, significant } from './stats.ts';
import type { Baseline, Figure, Target, Unit } from './types.ts';

/** Whether `target` holds for a figure with `value` and `ratio`; `null` when there is nothing to judge. */
export function judge(target: Target | undefined, value: number | null, ratio: number | null): boolean | null {
  if (target === undefined) return null;
  const subject = target.on === 'ratio' ? ratio : value;
  if (subject === null || !Number.isFinite(subject)) return null;
  return target.op === '<=' ? subject <= target.threshold : subject >= target.threshold;
}

/**
 * Builds a {@link Figure}: rounds the value (3 significant digits), computes the ratio to the
 * baseline and judges the target.
 *
 * @example
 * figure({ id: 'dispatch.perCall', label: 'per call', value: 1.23, unit: 'µs',
 *   baseline: { label: 'plain await', value: 0.12, unit: 'µs' },
 *   target: { op: '<=', threshold: 2, text: '≤ 2 µs' } });
 */
export function figure(opts: {
  id: string;
  label: string;
  value: number | null;
  unit: Unit;
  baseline?: Baseline;
  target?: Target;
  note?: string;
}): Figure {
  const value = opts.value === null || !Number.isFinite(opts.value) ? null : significant(opts.value);
  const baseline =
    opts.baseline === undefined ? undefined : { ...opts.baseline, value: significant(opts.baseline.value) };
  const exactRatio = opts.baseline === undefined ? null : ratioOf(opts.value, opts.baseline.value);
  const ratio = exactRatio === null ? null : significant(exactRatio);
  return {
    id: opts.id,
    label: opts.label,
    value,
    unit: opts.unit,
    ...(baseline === undefined ? {} : { baseline, ratio }),
    ...(opts.target === undefined ? {} : { target: opts.target }),
    met: judge(opts.target, opts.value === null || !Number.isFinite(opts.value) ? null : opts.value, exactRatio),
    ...(opts.note === undefined ? {} : { note: opts.note }),
  };
}
