import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { auditIsolation } from './auditIsolation.ts';
import { createDeliveryLedger } from './deliveryLedger.ts';
import type { RunEvent } from './events.ts';
import { contextFor, sleep, testFactory } from './testSupport.ts';

// Node exposes gc() only behind a flag; this turns it on for this worker.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('auditIsolation', () => {
  it('passes when nothing crossed users, leaked or was shared, and reports plain JSON', async () => {
    const { factory } = testFactory();
    const ledger = createDeliveryLedger();
    {
      await using scope = factory.forRequest(contextFor());
      await scope.execute('add', { a: 1, b: 1 });
    }
    const report = auditIsolation({ factory, ledger });
    expect(report).toMatchObject({
      passed: true,
      liveScopes: 0,
      peakScopes: 1,
      leakedScopes: 0,
      sharedContexts: 0,
      contractViolations: 0,
      crossUserDeliveryCount: 0,
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('fails on a cross-user delivery in the ledger and on a shared context', () => {
    const { factory } = testFactory();
    const ledger = createDeliveryLedger();
    const event = { id: 'r:1', runId: 'r', userId: 'alice' } as RunEvent;
    ledger.record({ event, recipientUserId: 'mallory', adminView: false });
    const context = contextFor();
    factory.forRequest(context);
    expect(() => factory.forRequest(context)).toThrow();
    const report = auditIsolation({ factory, ledger });
    expect(report).toMatchObject({ passed: false, sharedContexts: 1, liveScopes: 1, crossUserDeliveryCount: 1 });
    expect(report.crossUserDeliveries).toEqual([{ eventId: 'r:1', ownerUserId: 'alice', recipientUserId: 'mallory' }]);
  });

  it('detects a scope dropped without being disposed, releases it and closes its run', async () => {
    const { factory, sink, metrics } = testFactory();
    const context = contextFor();
    await (async () => {
      // The only reference to the scope lives in this function.
      const scope = factory.forRequest(context);
      await scope.execute('add', { a: 1, b: 1 });
    })();
    expect(factory.liveScopes()).toBe(1);
    for (let i = 0; i < 50 && factory.stats().leakedScopes === 0; i++) {
      gc();
      await sleep(10);
    }
    expect(factory.stats()).toMatchObject({ leakedScopes: 1, liveScopes: 0, activeRuns: 0 });
    expect(metrics.snapshot().isolationViolationsByKind.leaked_scope).toBe(1);
    expect(auditIsolation({ factory }).passed).toBe(false);
    await sleep(1);
    expect(sink.events(context.runId).at(-1)).toMatchObject({
      type: 'agent_completed',
      status: 'cancelled',
      error: { code: 'SCOPE_DISPOSED' },
    });
  });

  // Scopes are handed to the leak detector lazily (after a tick, or in batches of 1,024): one that
  // never ran anything, and every one of a burst larger than a batch, is still caught.
  it('detects dropped scopes that never ran anything, also from a synchronous burst larger than a batch', async () => {
    const { factory, sink } = testFactory({ limits: { maxScopesPerUser: Number.POSITIVE_INFINITY } });
    const dropped = 1_100;
    (() => {
      for (let i = 0; i < dropped; i++) factory.forRequest(contextFor('burst-user'));
    })();
    // Disposed ones are not counted, whether disposed at once or later.
    const kept = factory.forRequest(contextFor('burst-user'));
    await factory.forRequest(contextFor('burst-user'))[Symbol.asyncDispose]();
    expect(factory.liveScopes()).toBe(dropped + 1);
    for (let i = 0; i < 100 && factory.stats().leakedScopes < dropped; i++) {
      gc();
      await sleep(10);
    }
    expect(factory.stats()).toMatchObject({ leakedScopes: dropped, liveScopes: 1 });
    await kept[Symbol.asyncDispose]();
    expect(factory.stats()).toMatchObject({ leakedScopes: dropped, liveScopes: 0 });
    expect(factory.liveScopes('burst-user')).toBe(0);
    expect(sink.events()).toEqual([]);
  });
});
