import { describe, expect, it } from 'vitest';
import {
  bindContext,
  createChildContext,
  createUserExecutionContext,
  isUserExecutionContext,
  MAX_CONTEXT_DEPTH,
} from './context.ts';
import { DispatchError } from './errors.ts';

const valid = { userId: 'alice', threadId: 'thread-42', runId: 'run-7f3a' };

function problemOf(input: Record<string, unknown>): DispatchError {
  try {
    createUserExecutionContext({ ...valid, ...input } as typeof valid);
  } catch (error) {
    if (error instanceof DispatchError) return error;
    throw error;
  }
  throw new Error('expected the context to be refused');
}

describe('createUserExecutionContext', () => {
  it('builds a deeply frozen context with a generated request id and correlation id', () => {
    const ctx = createUserExecutionContext({ ...valid, roles: ['user', 'admin'], metadata: { tags: ['a'] } });
    expect(ctx.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.correlationId).toBe(`alice/run-7f3a/${ctx.requestId}`);
    expect(Object.isFrozen(ctx)).toBe(true);
    expect(Object.isFrozen(ctx.roles)).toBe(true);
    expect(Object.isFrozen(ctx.metadata.tags)).toBe(true);
    expect(() => {
      (ctx as { userId: string }).userId = 'mallory';
    }).toThrow(TypeError);
  });

  it('copies metadata so the caller keeps no handle on it', () => {
    const metadata = { note: 'x' };
    const ctx = createUserExecutionContext({ ...valid, metadata });
    metadata.note = 'changed';
    expect(ctx.metadata.note).toBe('x');
  });

  it.each([
    ['', 'must not be empty'],
    ['   ', 'must not be empty'],
    ['a'.repeat(129), 'at most 128 characters'],
    ['ali\nce', 'control characters'],
    ['ali\u0000ce', 'control characters'],
    [' alice', 'white space'],
    ['default', 'placeholder'],
    ['Anonymous', 'placeholder'],
    ['NULL', 'placeholder'],
    ['undefined', 'placeholder'],
    ['0', 'placeholder'],
    ['1', 'placeholder'],
    ['test', 'placeholder'],
    ['test_1', 'placeholder'],
    ['default-user', 'placeholder'],
    ['mock42', 'placeholder'],
  ])('refuses userId %j (%s) and names the field', (userId, rule) => {
    const error = problemOf({ userId });
    expect(error.code).toBe('INVALID_CONTEXT');
    expect(error.message).toContain('userId');
    expect(error.message).toContain(rule);
  });

  it('checks threadId and runId with the same rules', () => {
    expect(problemOf({ threadId: 'none' }).message).toMatch(/^threadId/);
    expect(problemOf({ runId: '' }).message).toMatch(/^runId/);
    expect(problemOf({ requestId: 'placeholder' }).message).toMatch(/^requestId/);
  });

  it('accepts real ids that merely start like a placeholder word', () => {
    expect(createUserExecutionContext({ ...valid, threadId: 'temperature-readings' }).threadId).toBe(
      'temperature-readings',
    );
    expect(createUserExecutionContext({ ...valid, userId: 'testudo' }).userId).toBe('testudo');
  });

  it('refuses unknown roles', () => {
    expect(problemOf({ roles: ['root'] }).message).toContain('roles');
  });
});

describe('createChildContext', () => {
  it('keeps the user and run, gives a new request id and links the parent', () => {
    const parent = createUserExecutionContext(valid);
    const child = createChildContext(parent);
    expect(child.userId).toBe('alice');
    expect(child.runId).toBe(parent.runId);
    expect(child.requestId).not.toBe(parent.requestId);
    expect(child.parentRequestId).toBe(parent.requestId);
    expect(child.depth).toBe(1);
  });

  it(`stops at depth ${MAX_CONTEXT_DEPTH}`, () => {
    let ctx = createUserExecutionContext(valid);
    for (let i = 0; i < MAX_CONTEXT_DEPTH; i++) ctx = createChildContext(ctx);
    expect(ctx.depth).toBe(MAX_CONTEXT_DEPTH);
    expect(() => createChildContext(ctx)).toThrow(/depth must be at most 10/);
  });
});

describe('isUserExecutionContext and bindContext', () => {
  it('recognizes contexts this module made, and not look-alikes with the same fields', () => {
    const ctx = createUserExecutionContext(valid);
    expect(isUserExecutionContext(ctx)).toBe(true);
    expect(isUserExecutionContext(createChildContext(ctx))).toBe(true);
    expect(isUserExecutionContext({ ...ctx })).toBe(false);
    expect(isUserExecutionContext(JSON.parse(JSON.stringify(ctx)))).toBe(false);
    expect(isUserExecutionContext(null)).toBe(false);
  });

  it('binds a context once, invisibly, although it is frozen', () => {
    const ctx = createUserExecutionContext(valid);
    const before = JSON.stringify(ctx);
    expect(bindContext(ctx)).toBe(true);
    expect(bindContext(ctx)).toBe(false);
    expect(JSON.stringify(ctx)).toBe(before);
    expect(Object.isFrozen(ctx)).toBe(true);
    expect(bindContext({ ...ctx })).toBe(false);
  });
});
