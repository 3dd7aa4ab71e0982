import { describe, expect, it } from 'vitest';
import { describeError } from './describeError.ts';

describe('describeError', () => {
  it('prefixes the tRPC code and the reason below it, and calls refusals not retryable', () => {
    const err = Object.assign(new Error('too many runs'), {
      data: { code: 'TOO_MANY_REQUESTS', reason: 'RATE_LIMITED' },
    });
    expect(describeError(err)).toEqual({
      code: 'TOO_MANY_REQUESTS',
      message: 'TOO_MANY_REQUESTS (RATE_LIMITED): too many runs',
      retryable: true,
    });
    const missing = Object.assign(new Error('run not found'), { data: { code: 'NOT_FOUND' } });
    expect(describeError(missing).retryable).toBe(false);
  });

  it('spells out input issues instead of a JSON dump', () => {
    const dumped = new Error(JSON.stringify([{ path: ['input', 'n'], message: 'Too big' }]));
    expect(describeError(dumped).message).toBe('input.n: Too big');
    const withIssues = Object.assign(new Error('bad agent input'), {
      data: { code: 'BAD_REQUEST', issues: [{ path: 'query', message: 'Required' }] },
    });
    expect(describeError(withIssues).message).toBe('BAD_REQUEST: bad agent input: query: Required');
  });

  it('names a network failure as such and treats it as retryable', () => {
    expect(describeError(new TypeError('Failed to fetch'))).toEqual({
      code: undefined,
      message: 'Cannot reach the server (network error).',
      retryable: true,
    });
  });
});
