import { describe, expect, it } from 'vitest';
import { emitTimes } from './emitTimes.ts';
import { runAgent } from './runAgent.ts';
import { contextFor, testAgents, testFactory } from './testSupport.ts';

const planner = testAgents.find((a) => a.name === 'planner');

async function runPlanner(): Promise<{ events: ReturnType<ReturnType<typeof testFactory>['sink']['events']> }> {
  if (planner === undefined) throw new Error('planner missing');
  const { factory, sink } = testFactory();
  const context = contextFor('alice');
  {
    await using scope = factory.forRequest(context);
    await runAgent(scope, planner, { n: 1 });
  }
  await factory.drain({ graceMs: 1_000 });
  return { events: sink.events(context.runId) };
}

describe('emitTimes', () => {
  it('records nothing until asked: a process without a reader pays no map entry per event', async () => {
    expect(emitTimes.recording).toBe(false);
    const { events } = await runPlanner();
    expect(events.length).toBeGreaterThan(4);
    for (const event of events) expect(emitTimes.of(event)).toBeUndefined();
  });

  it('once recording, gives every emitted event its monotonic emit time, in seq order', async () => {
    emitTimes.record();
    expect(emitTimes.recording).toBe(true);
    const before = performance.now();
    const { events } = await runPlanner();
    const after = performance.now();
    const times = events.map((event) => emitTimes.of(event));
    for (const time of times) {
      expect(time).toBeGreaterThanOrEqual(before);
      expect(time).toBeLessThanOrEqual(after);
    }
    for (let i = 1; i < times.length; i += 1) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1] ?? 0);
    // A copy (an event read back from storage) is not a live event: it has no emit time.
    const copy = { ...events[0] } as (typeof events)[number];
    expect(emitTimes.of(copy)).toBeUndefined();
    // Invisible to every reader of the event: its JSON, its keys, deep equality; and it stays frozen.
    expect(JSON.stringify(events[0])).toBe(JSON.stringify(copy));
    expect(Reflect.ownKeys(copy)).toEqual(Object.keys(events[0] ?? {}));
    expect(events[0]).toStrictEqual(copy);
    expect(Object.isFrozen(events[0])).toBe(true);
  });

  it("keeps a live event's JSON for the transports, and nothing for an event that is not live", async () => {
    emitTimes.record();
    const { events } = await runPlanner();
    const [first] = events;
    if (first === undefined) throw new Error('no events');
    expect(emitTimes.json(first)).toBeUndefined();
    emitTimes.keepJson(first, JSON.stringify(first));
    expect(emitTimes.json(first)).toBe(JSON.stringify(first));
    const copy = { ...first };
    emitTimes.keepJson(copy, JSON.stringify(copy));
    expect(emitTimes.json(copy)).toBeUndefined();
  });
});
