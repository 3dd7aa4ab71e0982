import { describe, expect, it } from 'vitest';
import { figure, judge } from './figure.ts';

describe('judge', () => {
  it('compares the value, or the ratio when the target says so', () => {
    expect(judge({ op: '<=', threshold: 2, text: '' }, 1.9, null)).toBe(true);
    expect(judge({ op: '<=', threshold: 2, text: '' }, 2.1, null)).toBe(false);
    expect(judge({ op: '>=', threshold: 0.8, on: 'ratio', text: '' }, 100, 0.79)).toBe(false);
    expect(judge({ op: '>=', threshold: 0.8, on: 'ratio', text: '' }, 1, 0.8)).toBe(true);
  });

  it('has nothing to judge without a target or without the compared figure', () => {
    expect(judge(undefined, 1, 1)).toBeNull();
    expect(judge({ op: '<=', threshold: 2, text: '' }, null, 1)).toBeNull();
    expect(judge({ op: '>=', threshold: 0.5, on: 'ratio', text: '' }, 10, null)).toBeNull();
  });
});

describe('figure', () => {
  it('rounds the value and baseline, computes the ratio from the exact figures and judges the target', () => {
    const f = figure({
      id: 'x.perCall',
      label: 'per call',
      value: 1.23456,
      unit: 'µs',
      baseline: { label: 'plain', value: 0.123456, unit: 'µs' },
      target: { op: '<=', threshold: 2, text: '≤ 2 µs' },
    });
    expect(f.value).toBe(1.23);
    expect(f.baseline?.value).toBe(0.123);
    expect(f.ratio).toBe(10);
    expect(f.met).toBe(true);
  });

  it('judges a ratio target on the unrounded ratio', () => {
    const f = figure({
      id: 'x.rate',
      label: 'rate',
      value: 7_999.6,
      unit: 'events/s',
      baseline: { label: 'raw', value: 10_000, unit: 'events/s' },
      target: { op: '>=', threshold: 0.8, on: 'ratio', text: '≥ 80%' },
    });
    expect(f.ratio).toBe(0.8);
    expect(f.met).toBe(false);
  });

  it('records an unmeasured figure as null, never as met', () => {
    const f = figure({
      id: 'x.none',
      label: 'none',
      value: Number.NaN,
      unit: 'KB',
      target: { op: '<=', threshold: 2, text: '' },
      note: 'needs --expose-gc',
    });
    expect(f.value).toBeNull();
    expect(f.met).toBeNull();
    expect(f.note).toBe('needs --expose-gc');
  });

  it('leaves out baseline and ratio when there is no baseline', () => {
    const f = figure({ id: 'x.plain', label: 'plain', value: 1, unit: 'µs' });
    expect('baseline' in f).toBe(false);
    expect('ratio' in f).toBe(false);
    expect(f.met).toBeNull();
  });
});
