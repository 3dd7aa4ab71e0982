import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSecretKey, REDACTED, redact } from './redact.ts';

describe('redact', () => {
  it.each([
    'password',
    'dbPassword',
    'client_secret',
    'accessToken',
    'api_key',
    'apiKey',
    'API-KEY',
    'Authorization',
    'credentials',
  ])('redacts the key %s at any depth', (key) => {
    expect(isSecretKey(key)).toBe(true);
    expect(redact({ a: [{ b: { [key]: 'hunter2' } }] })).toEqual({ a: [{ b: { [key]: REDACTED } }] });
  });

  it('keeps other keys and drops undefined values as JSON does', () => {
    expect(redact({ user: 'alice', note: 'x', missing: undefined })).toEqual({ user: 'alice', note: 'x' });
  });

  it('follows the contract literally: a key that merely contains `auth` or `token` is redacted too', () => {
    expect(redact({ author: 'Ann', tokens_used: 3 })).toEqual({ author: REDACTED, tokens_used: REDACTED });
  });

  it('redacts the sensitive keys it is given, case-insensitively, at any depth', () => {
    expect(redact({ ssn: '1', nested: { SSN: '2' }, other: 3 }, { sensitiveKeys: ['ssn'] })).toEqual({
      ssn: REDACTED,
      nested: { SSN: REDACTED },
      other: 3,
    });
  });

  it('cuts long strings, arrays and objects with markers', () => {
    const out = redact(
      { s: 'abcdefghij', list: [1, 2, 3, 4, 5], wide: { a: 1, b: 2, c: 3 } },
      { maxStringLength: 4, maxArrayLength: 2, maxObjectKeys: 2 },
    );
    expect(out).toEqual({ s: 'abcd…[truncated 6 chars]', list: [1, 2, '[… 3 more items]'], '…': '[1 more keys]' });
    expect(redact({ wide: { a: 1, b: 2, c: 3 } }, { maxObjectKeys: 2 })).toEqual({
      wide: { a: 1, b: 2, '…': '[1 more keys]' },
    });
  });

  it('normalizes what JSON cannot hold, and cuts cycles and depth', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const shared = { x: 1 };
    expect(
      redact({
        n: Number.NaN,
        negativeZero: -0,
        big: 10n,
        when: new Date('2026-01-02T03:04:05.000Z'),
        error: new TypeError('bad'),
        map: new Map([['k', 1]]),
        set: new Set([1, 2]),
        fn: () => 1,
        list: [undefined, () => 1],
        cyclic,
        twice: [shared, shared],
      }),
    ).toEqual({
      n: null,
      negativeZero: 0,
      big: '10',
      when: '2026-01-02T03:04:05.000Z',
      error: { name: 'TypeError', message: 'bad' },
      map: { k: 1 },
      set: [1, 2],
      list: [null, null],
      cyclic: { name: 'loop', self: '[CIRCULAR]' },
      twice: [{ x: 1 }, { x: 1 }],
    });
    expect(redact({ a: { b: { c: 1 } } }, { maxDepth: 2 })).toEqual({ a: { b: '[MAX_DEPTH]' } });
    expect(redact(undefined)).toBeNull();
  });

  it('survives a throwing getter', () => {
    const hostile = {
      get boom(): never {
        throw new Error('no');
      },
    };
    expect(redact({ hostile })).toEqual({ hostile: '[UNSERIALIZABLE]' });
  });

  it('returns a deeply frozen copy and never changes its input', () => {
    const input = { password: 'x', list: [{ a: 1 }] };
    const out = redact(input) as { list: { a: number }[] };
    expect(input.password).toBe('x');
    expect(Object.isFrozen(out)).toBe(true);
    expect(Object.isFrozen(out.list[0])).toBe(true);
  });

  it('property: the output is plain JSON, round-trips unchanged, and no value under a secret key survives', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true }), (value) => {
        const out = redact({ value, nested: { apiKey: value, password: [value] } });
        expect(JSON.parse(JSON.stringify(out))).toEqual(out);
        const nested = (out as { nested: Record<string, unknown> }).nested;
        expect(nested).toEqual({ apiKey: REDACTED, password: REDACTED });
      }),
      { numRuns: 200 },
    );
  });
});
