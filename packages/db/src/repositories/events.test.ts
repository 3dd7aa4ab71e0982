import type { RunEvent } from '@toolrun/dispatcher';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../../test/backends.ts';
import { makeRun, writeInChunks } from '../../test/fixtures.ts';
import type { ToolrunDatabase } from '../database.ts';

describe.each(BACKENDS)('replay and feed on $name', (backend) => {
  let db: ToolrunDatabase;
  /** Every event in the order the sink committed it. */
  const committed: RunEvent[] = [];
  const runs = Array.from({ length: 12 }, (_, i) =>
    makeRun({ runId: `run:${i}`, userId: i % 3 === 0 ? 'alice' : i % 3 === 1 ? 'bob' : 'carol', toolCalls: i % 4 }),
  );
  // One database for the describe: opened again per test (the harness closes each after its test).
  let location: string;
  beforeAll(async () => {
    location = await backend.fresh();
    const first = await backend.open(location);
    const sink = first.createPersistentSink({ onCommitted: (events) => committed.push(...events) });
    // Interleaved writers, so the global order mixes runs and users.
    await Promise.all(runs.map((events, i) => writeInChunks(sink, events, 2, i)));
    await first.close();
  });
  const open = async () => {
    db = await backend.open(location);
    return db;
  };

  it('eventsAfter(runId, seq) returns exactly the rest of the run after every possible seq', async () => {
    await open();
    for (const events of runs) {
      const runId = events[0]?.runId ?? '';
      for (let seq = 0; seq <= events.length; seq += 1) {
        expect(await db.eventsAfter(runId, seq)).toEqual(events.slice(seq));
      }
      expect(await db.eventsAfter(runId, 1, 2)).toEqual(events.slice(1, 3));
    }
  });

  it("feedAfter resumes after every one of the user's event ids with exactly the rest, in commit order", async () => {
    await open();
    for (const user of ['alice', 'bob', 'carol']) {
      const feed = committed.filter((e) => e.userId === user);
      expect(await db.feedAfter({ userId: user })).toEqual(feed);
      for (const [i, event] of feed.entries()) {
        expect(await db.feedAfter({ userId: user, afterEventId: event.id })).toEqual(feed.slice(i + 1));
      }
    }
  });

  it("a user's feed never contains another user's events, and another user's event id is unknown to it", async () => {
    await open();
    for (const user of ['alice', 'bob', 'carol']) {
      const feed = await db.feedAfter({ userId: user });
      expect(feed.length).toBeGreaterThan(0);
      expect(feed.every((e) => e.userId === user)).toBe(true);
    }
    const bobsEvent = committed.find((e) => e.userId === 'bob');
    await expect(db.feedAfter({ userId: 'alice', afterEventId: bobsEvent?.id ?? '' })).rejects.toMatchObject({
      code: 'UNKNOWN_EVENT',
    });
    expect(await db.feedAfter({ userId: 'nobody' })).toEqual([]);
  });

  it('the all-users feed (userId null) is every event in commit order, resumable after any id', async () => {
    await open();
    expect(await db.feedAfter({ userId: null })).toEqual(committed);
    for (const [i, event] of committed.entries()) {
      expect(await db.feedAfter({ userId: null, afterEventId: event.id, limit: 5 })).toEqual(
        committed.slice(i + 1, i + 6),
      );
    }
  });

  it('paging the feed with a limit rebuilds it exactly', async () => {
    await open();
    const pages: RunEvent[] = [];
    let after: string | undefined;
    for (let guard = 0; guard < 1_000; guard += 1) {
      const page = await db.feedAfter({
        userId: 'carol',
        limit: 3,
        ...(after === undefined ? {} : { afterEventId: after }),
      });
      if (page.length === 0) break;
      pages.push(...page);
      after = page.at(-1)?.id;
    }
    expect(pages).toEqual(committed.filter((e) => e.userId === 'carol'));
  });

  it("feedHead is the id of the feed's last committed event (the user's, or everyone's), undefined when empty", async () => {
    await open();
    for (const user of ['alice', 'bob', 'carol']) {
      const last = committed.filter((e) => e.userId === user).at(-1);
      expect(await db.feedHead(user)).toBe(last?.id);
      // Nothing of the user's feed lies after its head.
      expect(await db.feedAfter({ userId: user, afterEventId: last?.id ?? '' })).toEqual([]);
    }
    expect(await db.feedHead(null)).toBe(committed.at(-1)?.id);
    expect(await db.feedHead('nobody')).toBeUndefined();
  });

  it('rejects an event id that is malformed or not stored with UNKNOWN_EVENT, and a bad limit', async () => {
    await open();
    for (const id of ['nonsense', 'run:0:0', 'run:0:999', 'ghost:1', 'run:0:99999999999']) {
      await expect(db.feedAfter({ userId: null, afterEventId: id })).rejects.toMatchObject({ code: 'UNKNOWN_EVENT' });
    }
    await expect(db.eventsAfter('run:0', 0, 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
