import { describe, expect, it } from 'vitest';
import { mean, median, percentile, ratio, significant, sorted, spread } from './stats.ts';

describe('percentile', () => {
  it('interpolates linearly between the closest ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 25)).toBe(20);
    expect(percentile([0, 100], 99)).toBeCloseTo(99);
  });

  it('gives the extremes at 0 and 100 and ignores input order', () => {
    expect(percentile([5, 1, 9, 3], 0)).toBe(1);
    expect(percentile([5, 1, 9, 3], 100)).toBe(9);
  });

  it('is NaN for no samples and refuses a percentile outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('lands on Infinity when the rank falls among infinite samples (events that never arrived)', () => {
    const values = [...Array.from({ length: 98 }, () => 1), Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
    expect(percentile(values, 50)).toBe(1);
    expect(percentile(values, 99)).toBe(Number.POSITIVE_INFINITY);
  });

  it('leaves its input untouched', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    sorted(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('median and mean', () => {
  it('takes the middle of an odd count and the midpoint of an even count', () => {
    expect(median([7, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('is robust to one wild sample where the mean is not', () => {
    const noisy = [1, 1, 1, 1, 1000];
    expect(median(noisy)).toBe(1);
    expect(mean(noisy)).toBe(200.8);
    expect(mean([])).toBeNaN();
  });
});

describe('ratio', () => {
  it('divides the figure by its baseline', () => {
    expect(ratio(3, 1.5)).toBe(2);
  });

  it('is null when either side is missing, not finite, or the baseline is not positive', () => {
    expect(ratio(null, 1)).toBeNull();
    expect(ratio(1, null)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(1, -2)).toBeNull();
    expect(ratio(Number.NaN, 1)).toBeNull();
    expect(ratio(1, Number.POSITIVE_INFINITY)).toBeNull();
  });
});

describe('spread', () => {
  it('is max / min - 1 over figures that should be equal', () => {
    expect(spread([1, 1.05, 1.1])).toBeCloseTo(0.1);
    expect(spread([2, 2])).toBe(0);
  });

  it('is null for fewer than two figures or a non-positive one', () => {
    expect(spread([1])).toBeNull();
    expect(spread([1, 0])).toBeNull();
    expect(spread([1, Number.NaN])).toBeNull();
  });
});

describe('significant', () => {
  it('rounds to significant digits whatever the magnitude', () => {
    expect(significant(1234.567)).toBe(1230);
    expect(significant(0.0012345)).toBe(0.00123);
    expect(significant(1.23456, 4)).toBe(1.235);
    expect(significant(0)).toBe(0);
  });
});
