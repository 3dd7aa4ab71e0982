import { DB_ERROR_CODES, DbError } from '@toolrun/db';
import type { DispatchErrorCode } from '@toolrun/dispatcher';
import { DISPATCH_ERROR_CODES, DispatchError } from '@toolrun/dispatcher';
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AUTH_ERROR_CODES, AuthError } from './auth/AuthError.ts';
import { reasonOf, toTRPCError } from './toTRPCError.ts';

describe('toTRPCError', () => {
  it.each<[DispatchErrorCode, TRPCError['code']]>([
    ['UNKNOWN_AGENT', 'NOT_FOUND'],
    ['UNKNOWN_TOOL', 'NOT_FOUND'],
    ['INVALID_INPUT', 'BAD_REQUEST'],
    ['INPUT_TOO_LARGE', 'BAD_REQUEST'],
    ['INVALID_CONTEXT', 'BAD_REQUEST'],
    ['ACCESS_DENIED', 'FORBIDDEN'],
    ['CONCURRENT_RUN_LIMIT', 'TOO_MANY_REQUESTS'],
    ['RATE_LIMITED', 'TOO_MANY_REQUESTS'],
    ['SCOPE_LIMIT', 'TOO_MANY_REQUESTS'],
    ['SHUTTING_DOWN', 'SERVICE_UNAVAILABLE'],
    ['SLOW_CONSUMER', 'SERVICE_UNAVAILABLE'],
  ])('maps DispatchError %s to %s and keeps the code as the reason', (code, expected) => {
    const error = toTRPCError(new DispatchError(code, `because ${code}`));
    expect(error.code).toBe(expected);
    expect(error.message).toContain(`because ${code}`);
    expect(reasonOf(error)).toBe(code);
  });

  it('maps every dispatcher, database and auth code to a tRPC code', () => {
    for (const code of Object.keys(DISPATCH_ERROR_CODES) as DispatchErrorCode[]) {
      expect(toTRPCError(new DispatchError(code, 'x'))).toBeInstanceOf(TRPCError);
    }
    for (const code of Object.values(DB_ERROR_CODES))
      expect(toTRPCError(new DbError(code, 'x'))).toBeInstanceOf(TRPCError);
    for (const code of Object.values(AUTH_ERROR_CODES)) {
      expect(toTRPCError(new AuthError(code, 'x'))).toBeInstanceOf(TRPCError);
    }
  });

  it('puts the schema issues of INVALID_INPUT into a readable message', () => {
    const details = [
      { path: ['question'], message: 'Too small: expected string to have >=1 characters', code: 'too_small' },
    ];
    const error = toTRPCError(new DispatchError('INVALID_INPUT', 'invalid input for agent calculator', { details }));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toBe(
      'invalid input for agent calculator: question: Too small: expected string to have >=1 characters',
    );
  });

  it('maps database cursor and closed errors, and auth failures', () => {
    expect(toTRPCError(new DbError('INVALID_CURSOR', 'bad cursor')).code).toBe('BAD_REQUEST');
    expect(toTRPCError(new DbError('UNKNOWN_EVENT', 'no such event')).code).toBe('BAD_REQUEST');
    expect(toTRPCError(new DbError('CLOSED', 'closed')).code).toBe('SERVICE_UNAVAILABLE');
    expect(toTRPCError(new AuthError('EXPIRED_TOKEN', 'expired')).code).toBe('UNAUTHORIZED');
    expect(toTRPCError(new AuthError('INVALID_TOKEN', 'forged')).code).toBe('UNAUTHORIZED');
    expect(toTRPCError(new AuthError('LOGIN_DISABLED', 'off')).code).toBe('FORBIDDEN');
  });

  it('turns a zod error into BAD_REQUEST with the issues in the message', () => {
    const result = z.object({ n: z.number() }).safeParse({ n: 'x' });
    expect(result.success).toBe(false);
    const error = toTRPCError(result.error);
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/^n: /);
  });

  it('hides the message of an unknown error behind a generic one, keeping it as cause', () => {
    const secret = new Error('ENOENT: /var/lib/secret/path');
    const error = toTRPCError(secret);
    expect(error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).toBe('Internal server error');
    expect(error.cause).toBe(secret);
    expect(toTRPCError('a string').code).toBe('INTERNAL_SERVER_ERROR');
  });

  it('passes a TRPCError through unchanged', () => {
    const original = new TRPCError({ code: 'CONFLICT', message: 'already' });
    expect(toTRPCError(original)).toBe(original);
  });
});
