import { afterEach, describe, expect, it, vi } from 'vitest';
import { type EventsObserver, LiveRunsStore } from './liveRunsStore.ts';
import type { RunEvent } from './types.ts';

// The transport is faked here: these tests prove the store's resume and de-duplication logic
// in isolation. The real tRPC client over SSE and WebSocket is exercised in test/e2e.

const RUN = 'run_1';
function events(from: number, to: number): RunEvent[] {
  const out: RunEvent[] = [];
  for (let seq = from; seq <= to; seq++) {
    const env = {
      id: `${RUN}:${seq}`,
      seq,
      runId: RUN,
      userId: 'alice',
      threadId: 't',
      at: '2026-01-01T00:00:00.000Z',
    };
    if (seq === 1) out.push({ ...env, type: 'agent_started', agent: 'slow', input: {} });
    else if (seq === 10)
      out.push({ ...env, type: 'agent_completed', status: 'completed', result: 1, durationMs: 1, toolCalls: 0 });
    else out.push({ ...env, type: 'agent_thinking', text: `step ${seq}`, step: seq - 1 });
  }
  return out;
}

function fakeTransport() {
  const calls: { input: { runId: string; lastEventId?: string }; observer: EventsObserver; closed: boolean }[] = [];
  const subscribe = (input: { runId: string; lastEventId?: string }, observer: EventsObserver) => {
    const call = { input, observer, closed: false };
    calls.push(call);
    return {
      unsubscribe: () => {
        call.closed = true;
      },
    };
  };
  const last = () => {
    const call = calls.at(-1);
    if (call === undefined) throw new Error('no subscription');
    return call;
  };
  const send = (evts: RunEvent[]) => last().observer.onData({ id: evts.at(-1)?.id ?? '', data: evts });
  return { calls, subscribe, last, send };
}

function storeWith(t: ReturnType<typeof fakeTransport>) {
  return new LiveRunsStore({ subscribe: t.subscribe, userId: 'alice', retryDelayMs: () => 10, storage: undefined });
}

afterEach(() => vi.useRealTimers());

describe('LiveRunsStore', () => {
  it('shows connected → reconnecting → resumed when the transport reconnects by itself, with no duplicate', () => {
    const t = fakeTransport();
    const store = storeWith(t);
    store.follow({ runId: RUN, agent: 'slow', threadId: 't' });
    t.last().observer.onConnectionStateChange({ state: 'connecting' });
    expect(store.getSnapshot()[0]?.link).toBe('connecting');
    t.last().observer.onConnectionStateChange({ state: 'pending' });
    t.send(events(1, 4));
    expect(store.getSnapshot()[0]?.link).toBe('connected');

    t.last().observer.onConnectionStateChange({ state: 'connecting' });
    expect(store.getSnapshot()[0]?.link).toBe('reconnecting');
    t.last().observer.onConnectionStateChange({ state: 'pending' });
    t.send(events(3, 6)); // overlap after the resume
    const run = store.getSnapshot()[0];
    expect(run?.link).toBe('resumed');
    expect(run?.drops).toBe(1);
    expect(run?.timeline.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    store.dispose();
  });

  it('re-subscribes from the last applied event id after an error, and ends after agent_completed', async () => {
    vi.useFakeTimers();
    const t = fakeTransport();
    const store = storeWith(t);
    store.follow({ runId: RUN, agent: 'slow', threadId: 't' });
    t.send(events(1, 5));
    t.last().observer.onError(new TypeError('network error'));
    expect(store.getSnapshot()[0]?.link).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(20);
    expect(t.calls).toHaveLength(2);
    expect(t.calls[0]?.closed).toBe(true);
    expect(t.last().input).toEqual({ runId: RUN, lastEventId: `${RUN}:5` });

    t.send(events(6, 10));
    t.last().observer.onComplete();
    const run = store.getSnapshot()[0];
    expect(run?.link).toBe('ended');
    expect(run?.timeline.events).toHaveLength(10);
    store.dispose();
  });

  it('resumes when a stream completes before agent_completed (a server going down), and fails on a refusal', async () => {
    vi.useFakeTimers();
    const t = fakeTransport();
    const store = storeWith(t);
    store.follow({ runId: RUN, agent: 'slow', threadId: 't' });
    t.send(events(1, 3));
    t.last().observer.onComplete();
    await vi.advanceTimersByTimeAsync(20);
    expect(t.last().input.lastEventId).toBe(`${RUN}:3`);

    t.last().observer.onError(Object.assign(new Error('run not found'), { data: { code: 'NOT_FOUND' } }));
    await vi.advanceTimersByTimeAsync(100);
    expect(t.calls).toHaveLength(2);
    expect(store.getSnapshot()[0]?.link).toBe('failed');
    expect(store.getSnapshot()[0]?.error).toBe('NOT_FOUND: run not found');
    store.dispose();
  });

  it('re-subscribes from the last contiguous event when a message skips seqs', async () => {
    vi.useFakeTimers();
    const t = fakeTransport();
    const store = storeWith(t);
    store.follow({ runId: RUN, agent: 'slow', threadId: 't' });
    t.send(events(1, 2));
    t.send(events(5, 6));
    expect(t.calls[0]?.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(5);
    expect(t.last().input.lastEventId).toBe(`${RUN}:2`);
    t.send(events(3, 4));
    expect(store.getSnapshot()[0]?.timeline.lastSeq).toBe(6);
    store.dispose();
  });

  it('queues streams beyond maxStreams and opens them as earlier ones end', () => {
    const t = fakeTransport();
    const store = new LiveRunsStore({ subscribe: t.subscribe, userId: 'alice', maxStreams: 1, storage: undefined });
    store.follow({ runId: RUN, agent: 'slow', threadId: 't' });
    store.follow({ runId: 'run_2', agent: 'slow', threadId: 't' });
    expect(t.calls.map((c) => c.input.runId)).toEqual([RUN]);
    expect(store.getSnapshot().find((r) => r.runId === 'run_2')?.link).toBe('queued');
    t.send(events(1, 10));
    t.last().observer.onComplete();
    expect(t.calls.map((c) => c.input.runId)).toEqual([RUN, 'run_2']);
    expect(store.getSnapshot().find((r) => r.runId === 'run_2')?.link).toBe('connecting');
    store.dispose();
  });

  it('follows several runs at once and remembers them across a reload of the tab', () => {
    const t = fakeTransport();
    const saved = new Map<string, string>();
    const storage = {
      getItem: (k: string) => saved.get(k) ?? null,
      setItem: (k: string, v: string) => void saved.set(k, v),
    };
    const store = new LiveRunsStore({ subscribe: t.subscribe, userId: 'alice', storage });
    store.follow({ runId: 'a', agent: 'slow', threadId: 't' });
    store.follow({ runId: 'b', agent: 'slow', threadId: 't' });
    store.follow({ runId: 'a', agent: 'slow', threadId: 't' });
    expect(store.getSnapshot().map((r) => r.runId)).toEqual(['b', 'a']);
    store.dispose();

    const reloaded = new LiveRunsStore({ subscribe: t.subscribe, userId: 'alice', storage });
    expect(reloaded.getSnapshot().map((r) => r.runId)).toEqual(['b', 'a']);
    const bob = new LiveRunsStore({ subscribe: t.subscribe, userId: 'bob', storage });
    expect(bob.getSnapshot()).toEqual([]);
    reloaded.dispose();
    bob.dispose();
  });
});
