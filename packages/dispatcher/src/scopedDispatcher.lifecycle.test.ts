import { describe, expect, it } from 'vitest';
import { createUserExecutionContext } from './context.ts';
import { DispatchError } from './errors.ts';
import { findOrderingViolations } from './findOrderingViolations.ts';
import * as publicApi from './index.ts';
import { contextFor, shape, type ToolLog, testFactory } from './testSupport.ts';

async function rejectionOf(promise: Promise<unknown>): Promise<DispatchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DispatchError)) throw new Error(`expected a DispatchError, got ${String(error)}`);
  return error;
}

describe('scope lifecycle', () => {
  it('rejects with SCOPE_DISPOSED after dispose, and dispose is idempotent', async () => {
    const { factory } = testFactory();
    const scope = factory.forRequest(contextFor());
    await scope[Symbol.asyncDispose]();
    await scope[Symbol.asyncDispose]();
    expect((await rejectionOf(scope.execute('add', { a: 1, b: 1 }))).code).toBe('SCOPE_DISPOSED');
  });

  it('rejects with RUN_FINISHED once the scope’s run has ended (cancelled by the factory)', async () => {
    const { factory, sink } = testFactory();
    const context = contextFor();
    await using scope = factory.forRequest(context);
    await scope.execute('add', { a: 1, b: 1 });
    expect(factory.cancelRun(context.runId, 'enough')).toBe(true);
    expect(scope.state).toBe('finished');
    expect((await rejectionOf(scope.execute('add', { a: 1, b: 1 }))).code).toBe('RUN_FINISHED');
    expect(sink.events(context.runId).at(-1)).toMatchObject({ type: 'agent_completed', status: 'cancelled' });
  });

  it('cancels calls in flight when the scope is disposed, and the run ends cancelled', async () => {
    const log: ToolLog = { signals: [], contexts: [] };
    const { factory, sink } = testFactory({ log });
    const context = contextFor();
    const scope = factory.forRequest(context);
    const pending = scope.execute('sleep', { ms: 5_000 });
    await scope[Symbol.asyncDispose]();
    expect(await pending).toMatchObject({ status: 'cancelled', error: { code: 'SCOPE_DISPOSED' } });
    expect(log.signals[0]?.aborted).toBe(true);
    const events = sink.events(context.runId);
    expect(shape(events)).toEqual([
      'agent_started',
      'tool_executing:sleep',
      'tool_completed:sleep:cancelled',
      'agent_completed:cancelled',
    ]);
    expect(findOrderingViolations(events, { finished: true })).toEqual([]);
  });

  it('disposes a scope that never ran anything without emitting an event', async () => {
    const { factory, sink } = testFactory();
    {
      await using _scope = factory.forRequest(contextFor());
    }
    expect(sink.events()).toEqual([]);
    expect(factory.liveScopes()).toBe(0);
  });

  it('caps live scopes per user with SCOPE_LIMIT and never evicts one', async () => {
    const { factory, metrics } = testFactory({ limits: { maxScopesPerUser: 2 } });
    const first = factory.forRequest(contextFor('alice'));
    const second = factory.forRequest(contextFor('alice'));
    expect(() => factory.forRequest(contextFor('alice'))).toThrow(expect.objectContaining({ code: 'SCOPE_LIMIT' }));
    // The two live scopes still work: nothing was evicted.
    expect((await first.execute('add', { a: 1, b: 1 })).status).toBe('success');
    expect(second.state).toBe('idle');
    // Other users are not affected.
    await factory.forRequest(contextFor('bob'))[Symbol.asyncDispose]();
    await first[Symbol.asyncDispose]();
    await factory.forRequest(contextFor('alice'))[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
    expect(metrics.snapshot().limitHits.SCOPE_LIMIT).toBe(1);
  });

  it('refuses a context that is already bound to a scope, live or disposed (CONTEXT_IN_USE), and counts it', async () => {
    const { factory, metrics } = testFactory();
    const context = contextFor();
    const scope = factory.forRequest(context);
    expect(() => factory.forRequest(context)).toThrow(expect.objectContaining({ code: 'CONTEXT_IN_USE' }));
    // A second context for the same live run is refused too: two scopes would write one run.
    const twin = createUserExecutionContext({ userId: 'alice', threadId: 't-1', runId: context.runId });
    expect(() => factory.forRequest(twin)).toThrow(expect.objectContaining({ code: 'CONTEXT_IN_USE' }));
    await scope[Symbol.asyncDispose]();
    expect(() => factory.forRequest(context)).toThrow(expect.objectContaining({ code: 'CONTEXT_IN_USE' }));
    expect(factory.stats().sharedContexts).toBe(3);
    expect(metrics.snapshot().isolationViolationsByKind.shared_context).toBe(3);
  });

  it('refuses a hand-made look-alike of a context (INVALID_CONTEXT)', () => {
    const { factory } = testFactory();
    const forged = { ...contextFor() };
    expect(() => factory.forRequest(forged)).toThrow(expect.objectContaining({ code: 'INVALID_CONTEXT' }));
  });

  it('leaves zero live scopes after 1,000 create/execute/dispose cycles', async () => {
    const { factory, metrics } = testFactory();
    for (let i = 0; i < 1_000; i++) {
      await using scope = factory.forRequest(contextFor(`user-${i % 37}x`));
      if (i % 2 === 0) await scope.execute('add', { a: i, b: 1 });
    }
    expect(factory.liveScopes()).toBe(0);
    expect(factory.stats()).toMatchObject({ liveScopes: 0, scopesOpened: 1_000, activeRuns: 0 });
    expect(metrics.snapshot()).toMatchObject({ liveScopes: 0, activeRuns: 0 });
    expect(metrics.snapshot().peakScopes).toBeGreaterThanOrEqual(1);
  });
});

describe('construction', () => {
  it('cannot be constructed from outside the package: no export, and `new` on its constructor throws', () => {
    const { factory } = testFactory();
    const scope = factory.forRequest(contextFor());
    // Nothing the package exports constructs a scope.
    const exported = Object.entries(publicApi).filter(([, value]) => typeof value === 'function');
    for (const [name, value] of exported) {
      expect(value, name).not.toBe(scope.constructor);
    }
    expect(Object.keys(publicApi)).not.toContain('RequestScopedToolDispatcher');
    const Ctor = scope.constructor as new (...args: unknown[]) => unknown;
    expect(() => new Ctor(Symbol('construct'), undefined, contextFor(), {})).toThrow(TypeError);
    expect(() => new Ctor()).toThrow(/only by factory.forRequest/);
  });

  it('is not reachable by a deep import: the exports map only opens "." and "./compat"', async () => {
    const deep = ['@toolrun', 'dispatcher', 'src', 'scopedDispatcher.ts'].join('/');
    await expect(import(/* @vite-ignore */ deep)).rejects.toThrow(/not exported/);
    // The same resolver does open the public entry points.
    const root = ['@toolrun', 'dispatcher'].join('/');
    await expect(import(/* @vite-ignore */ root)).resolves.toHaveProperty('createDispatcherFactory');
    const pkg = (await import('../package.json', { with: { type: 'json' } })).default as { exports: object };
    expect(Object.keys(pkg.exports)).toEqual(['.', './compat']);
  });
});
