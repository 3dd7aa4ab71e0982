import { describe, expect, it } from 'vitest';
import { parseRoute, routeHref } from './hashRoute.ts';

describe('hash routes', () => {
  it('parses every page and links back to the same hash', () => {
    for (const hash of [
      '#/live',
      '#/identity',
      '#/metrics',
      '#/tools',
      '#/audits',
      '#/audits/a1',
      '#/history?status=failed&agent=slow',
      '#/runs/run%3Ax',
    ]) {
      expect(routeHref(parseRoute(hash))).toBe(hash);
    }
    expect(parseRoute('#/runs/run%3Ax')).toEqual({ page: 'run', runId: 'run:x' });
  });

  it('sends an empty or unknown hash to the live page', () => {
    expect(parseRoute('')).toEqual({ page: 'live' });
    expect(parseRoute('#/nope')).toEqual({ page: 'live' });
  });
});
