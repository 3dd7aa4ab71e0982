import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunEvent } from '../events.ts';
import type { RequestScopedToolDispatcher } from '../index.ts';
import { runAgent } from '../runAgent.ts';
import { contextFor, testAgents, testFactory } from '../testSupport.ts';
import {
  createRequestScopedToolDispatcher,
  enhanceToolDispatcherWithNotifications,
  LEGACY_ENTRY_POINTS,
  ToolDispatcher,
  ToolExecutorFactory,
  UnifiedToolDispatcherFactory,
} from './index.ts';

type Factory = ReturnType<typeof testFactory>['factory'];

/** Every legacy entry point, as a way to get a scope for a context. */
const legacyWays: Record<
  keyof typeof LEGACY_ENTRY_POINTS,
  (factory: Factory, userId: string) => RequestScopedToolDispatcher
> = {
  'ToolDispatcher.createRequestScoped': (f, u) => ToolDispatcher.createRequestScoped(f, contextFor(u)),
  createRequestScopedToolDispatcher: (f, u) => createRequestScopedToolDispatcher(f, contextFor(u)),
  'ToolExecutorFactory.create': (f, u) => ToolExecutorFactory.create(f, contextFor(u)),
  'UnifiedToolDispatcherFactory.createForRequest': (f, u) =>
    UnifiedToolDispatcherFactory.createForRequest(f, contextFor(u)),
  enhanceToolDispatcherWithNotifications: (f, u) => enhanceToolDispatcherWithNotifications(f.forRequest(contextFor(u))),
};

/** The events of a run without what differs between two runs (ids, times, durations). */
function comparable(events: readonly RunEvent[]): unknown[] {
  return events.map(({ id: _id, runId: _runId, at: _at, ...rest }) => {
    const copy: Record<string, unknown> = { ...rest };
    delete copy.callId;
    delete copy.durationMs;
    return copy;
  });
}

async function scenario(scope: RequestScopedToolDispatcher, sink: ReturnType<typeof testFactory>['sink']) {
  const planner = testAgents.find((a) => a.name === 'planner');
  if (!planner) throw new Error('planner missing');
  await runAgent(scope, planner, { n: 5 });
  await scope[Symbol.asyncDispose]();
  return comparable(sink.events(scope.context.runId));
}

describe('@toolrun/dispatcher/compat', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('warns once per process per entry point, with DeprecationWarning and its own code, and counts every call', async () => {
    // Fresh modules: "once per process" state from other tests in this file must not leak in.
    vi.resetModules();
    const compat = await import('./index.ts');
    const support = await import('../testSupport.ts');
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const { factory, metrics } = support.testFactory();
    const ways = [
      (u: string) => compat.ToolDispatcher.createRequestScoped(factory, support.contextFor(u)),
      (u: string) => compat.createRequestScopedToolDispatcher(factory, support.contextFor(u)),
      (u: string) => compat.ToolExecutorFactory.create(factory, support.contextFor(u)),
      (u: string) => compat.UnifiedToolDispatcherFactory.createForRequest(factory, support.contextFor(u)),
      (u: string) => compat.enhanceToolDispatcherWithNotifications(factory.forRequest(support.contextFor(u))),
    ];
    for (const get of ways) {
      for (let i = 0; i < 3; i++) await get('alice')[Symbol.asyncDispose]();
    }
    expect(warn).toHaveBeenCalledTimes(5);
    const codes = warn.mock.calls.map(([, options]) => options);
    expect(codes).toEqual(Object.values(LEGACY_ENTRY_POINTS).map((code) => ({ type: 'DeprecationWarning', code })));
    expect(new Set(Object.values(LEGACY_ENTRY_POINTS)).size).toBe(5);
    expect(metrics.snapshot().legacyCalls).toEqual(
      Object.fromEntries(Object.keys(LEGACY_ENTRY_POINTS).map((name) => [name, 3])),
    );
    expect(factory.stats().legacyCalls).toBe(15);
  });

  it.each(Object.keys(legacyWays) as (keyof typeof legacyWays)[])(
    '%s yields the same event sequence as factory.forRequest (parity)',
    async (name) => {
      vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const { factory, sink } = testFactory();
      const expected = await scenario(factory.forRequest(contextFor('alice')), sink);
      const actual = await scenario(legacyWays[name](factory, 'alice'), sink);
      expect(actual).toEqual(expected);
      expect(actual).toHaveLength(10);
      expect(factory.liveScopes()).toBe(0);
    },
  );

  it('keeps isolation: a legacy scope belongs to its context’s user and the same context is not reusable', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const { factory } = testFactory();
    const context = contextFor('alice');
    const scope = ToolDispatcher.createRequestScoped(factory, context);
    expect(scope.context).toBe(context);
    expect(() => createRequestScopedToolDispatcher(factory, context)).toThrow(
      expect.objectContaining({ code: 'CONTEXT_IN_USE' }),
    );
  });

  it('validates the raw context fields legacy callers pass, with the same rules', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const { factory } = testFactory();
    const scope = ToolExecutorFactory.create(factory, { userId: 'alice', threadId: 'thread-1', runId: 'run-legacy-1' });
    expect(scope.context.userId).toBe('alice');
    expect(() => ToolExecutorFactory.create(factory, { userId: 'default', threadId: 't-1', runId: 'r-1' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONTEXT' }),
    );
  });

  it('refuses anything that is not from the one factory', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const fakeFactory = { forRequest: () => ({}) } as unknown as Factory;
    expect(() => UnifiedToolDispatcherFactory.createForRequest(fakeFactory, contextFor())).toThrow(
      expect.objectContaining({ code: 'INVALID_SCOPE' }),
    );
    const fakeScope = { context: contextFor(), execute: async () => ({}) } as unknown as RequestScopedToolDispatcher;
    expect(() => enhanceToolDispatcherWithNotifications(fakeScope)).toThrow(
      expect.objectContaining({ code: 'INVALID_SCOPE' }),
    );
  });
});
