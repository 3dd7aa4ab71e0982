import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveRunsStore, type StoredRun } from './liveRunsStore.ts';
import { type FeedObserver, RunsFeed } from './runsFeed.ts';
import type { RunEvent } from './types.ts';

// The transport and `runs.get` are faked here: these tests prove the feed's resume and the store's
// history filling and de-duplication in isolation. The real tRPC client over SSE and WebSocket is
// exercised in test/e2e.

function events(runId: string, from: number, to: number, last = 10): RunEvent[] {
  const out: RunEvent[] = [];
  for (let seq = from; seq <= to; seq++) {
    const env = { id: `${runId}:${seq}`, seq, runId, userId: 'alice', threadId: 't', at: '2026-01-01T00:00:00.000Z' };
    if (seq === 1) out.push({ ...env, type: 'agent_started', agent: 'slow', input: {} });
    else if (seq === last)
      out.push({ ...env, type: 'agent_completed', status: 'completed', result: 1, durationMs: 1, toolCalls: 0 });
    else out.push({ ...env, type: 'agent_thinking', text: `step ${seq}`, step: seq - 1 });
  }
  return out;
}

function fakeTransport() {
  const calls: { input: { lastEventId?: string }; observer: FeedObserver; closed: boolean }[] = [];
  const subscribe = (input: { lastEventId?: string }, observer: FeedObserver) => {
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
  const connect = () => last().observer.onConnectionStateChange({ state: 'pending' });
  return { calls, subscribe, last, send, connect };
}

/** A `runs.get` whose answers the test gives, one per call, in order. */
function fakeHistory() {
  const asked: string[] = [];
  const answers: ((value: StoredRun | Promise<never>) => void)[] = [];
  const loadRun = (runId: string) => {
    asked.push(runId);
    return new Promise<StoredRun>((resolve, reject) => {
      answers.push((value) => (value instanceof Promise ? value.catch(reject) : resolve(value)));
    });
  };
  const answer = async (value: StoredRun | Error) => {
    const next = answers.shift();
    if (next === undefined) throw new Error('nothing asked');
    next(value instanceof Error ? Promise.reject(value) : value);
    await Promise.resolve();
    await Promise.resolve();
  };
  return { asked, loadRun, answer };
}

function setUp(storage?: Pick<Storage, 'getItem' | 'setItem'>, userId = 'alice') {
  const t = fakeTransport();
  const h = fakeHistory();
  const feed = new RunsFeed({ subscribe: t.subscribe, retryDelayMs: () => 10 });
  const store = new LiveRunsStore({ feed, loadRun: h.loadRun, userId, retryDelayMs: () => 10, storage });
  feed.start();
  const dispose = () => {
    store.dispose();
    feed.dispose();
  };
  return { t, h, feed, store, dispose };
}

const run = (store: LiveRunsStore, runId: string) => store.getSnapshot().find((r) => r.runId === runId);

afterEach(() => vi.useRealTimers());

describe('RunsFeed and LiveRunsStore', () => {
  it('follows every run of the user over one subscription, each run appearing with its first event', () => {
    const { t, h, store, dispose } = setUp();
    t.connect();
    t.send([...events('a', 1, 3), ...events('b', 1, 2)]);
    t.send([...events('b', 3, 10), ...events('a', 4, 10)]);
    expect(t.calls).toHaveLength(1);
    expect(store.getSnapshot().map((r) => [r.runId, r.agent, r.link, r.timeline.lastSeq])).toEqual([
      ['b', 'slow', 'ended', 10],
      ['a', 'slow', 'ended', 10],
    ]);
    // Both were seen from their first event: nothing to read from the history.
    expect(h.asked).toEqual([]);
    dispose();
  });

  it('resumes from the last tracked id: connected → reconnecting → resumed, the overlap dropped', async () => {
    vi.useFakeTimers();
    const { t, h, store, dispose } = setUp();
    t.connect();
    t.send(events('a', 1, 4));
    t.last().observer.onConnectionStateChange({ state: 'connecting' });
    expect(run(store, 'a')?.link).toBe('reconnecting');
    t.connect();
    t.send(events('a', 3, 6));
    expect(run(store, 'a')).toMatchObject({ link: 'resumed', drops: 1 });
    expect(run(store, 'a')?.timeline.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);

    // An error: the feed subscribes again itself, from the last tracked id.
    t.last().observer.onError(new TypeError('network error'));
    await vi.advanceTimersByTimeAsync(20);
    expect(t.calls).toHaveLength(2);
    expect(t.calls[0]?.closed).toBe(true);
    expect(t.last().input).toEqual({ lastEventId: 'a:6' });
    // So does an end (a server going down).
    t.last().observer.onComplete();
    await vi.advanceTimersByTimeAsync(20);
    expect(t.last().input).toEqual({ lastEventId: 'a:6' });
    expect(h.asked).toEqual([]);
    dispose();
  });

  it('reads the history of a run followed mid-way once the feed is up, and merges it with what the feed brings', async () => {
    const { t, h, store, dispose } = setUp();
    store.follow({ runId: 'a', agent: 'slow', threadId: 't' });
    expect(h.asked).toEqual([]); // not before the feed is connected: it might miss what follows
    t.connect();
    expect(h.asked).toEqual(['a']);
    t.send(events('a', 5, 6)); // live events arrive before the history: held after the gap
    expect(run(store, 'a')?.timeline.lastSeq).toBe(0);
    await h.answer({ agent: 'slow', threadId: 't', events: events('a', 1, 5) });
    expect(run(store, 'a')?.timeline.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    dispose();
  });

  it('fills a gap in a run from its history, and a run first seen mid-way too', async () => {
    const { t, h, store, dispose } = setUp();
    t.connect();
    t.send(events('a', 1, 2));
    t.send(events('a', 5, 6));
    t.send(events('b', 3, 4));
    expect(h.asked).toEqual(['a', 'b']);
    expect(run(store, 'b')?.agent).toBe('…');
    await h.answer({ agent: 'slow', threadId: 't', events: events('a', 1, 5) });
    await h.answer({ agent: 'other', threadId: 't2', events: events('b', 1, 3) });
    expect(run(store, 'a')?.timeline.lastSeq).toBe(6);
    expect(run(store, 'b')).toMatchObject({ agent: 'other', threadId: 't2' });
    expect(run(store, 'b')?.timeline.lastSeq).toBe(4);
    dispose();
  });

  it('reads open runs again after a connection made without a tracked id (events before it may be missing)', async () => {
    const { t, h, store, dispose } = setUp();
    store.follow({ runId: 'a', agent: 'slow', threadId: 't' });
    t.connect();
    await h.answer({ agent: 'slow', threadId: 't', events: events('a', 1, 2) });
    // A drop before any message: the transport reconnects without an id.
    t.last().observer.onConnectionStateChange({ state: 'connecting' });
    t.connect();
    expect(h.asked).toEqual(['a', 'a']);
    await h.answer({ agent: 'slow', threadId: 't', events: events('a', 1, 4) });
    expect(run(store, 'a')?.timeline.lastSeq).toBe(4);
    // With a tracked id, nothing is read again.
    t.send(events('a', 5, 5));
    t.last().observer.onConnectionStateChange({ state: 'connecting' });
    t.connect();
    expect(h.asked).toHaveLength(2);
    dispose();
  });

  it('marks a run the server refuses as failed with the refusal, and keeps it failed', async () => {
    const { t, h, store, dispose } = setUp();
    store.follow({ runId: 'x', agent: 'slow', threadId: 't' });
    t.connect();
    await h.answer(Object.assign(new Error('no run "x"'), { data: { code: 'NOT_FOUND' } }));
    expect(run(store, 'x')).toMatchObject({ link: 'failed', error: 'NOT_FOUND: no run "x"' });
    t.last().observer.onConnectionStateChange({ state: 'connecting' });
    t.connect();
    expect(run(store, 'x')?.link).toBe('failed');
    dispose();
  });

  it('keeps a dismissed run away even as its events go on, and remembers followed runs across a reload', () => {
    const saved = new Map<string, string>();
    const storage = {
      getItem: (k: string) => saved.get(k) ?? null,
      setItem: (k: string, v: string) => void saved.set(k, v),
    };
    const first = setUp(storage);
    first.t.connect();
    first.t.send([...events('a', 1, 2), ...events('b', 1, 2), ...events('c', 1, 2)]);
    first.store.dismiss('c');
    first.t.send(events('c', 3, 4));
    expect(first.store.getSnapshot().map((r) => r.runId)).toEqual(['b', 'a']);
    first.dispose();

    const reloaded = setUp(storage);
    expect(reloaded.store.getSnapshot().map((r) => r.runId)).toEqual(['b', 'a']);
    reloaded.t.connect();
    expect(reloaded.h.asked).toEqual(['a', 'b']);
    reloaded.dispose();
    const bob = setUp(storage, 'bob');
    expect(bob.store.getSnapshot()).toEqual([]);
    bob.dispose();
  });

  it('fails the feed on a refusal, without retrying', async () => {
    vi.useFakeTimers();
    const { t, feed, dispose } = setUp();
    t.last().observer.onError(Object.assign(new Error('no token'), { data: { code: 'UNAUTHORIZED' } }));
    await vi.advanceTimersByTimeAsync(100);
    expect(t.calls).toHaveLength(1);
    expect(feed.state()).toBe('failed');
    dispose();
  });
});
