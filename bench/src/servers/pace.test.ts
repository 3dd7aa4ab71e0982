import { describe, expect, it } from 'vitest';
import { pace } from './pace.ts';
import { EVENT_BYTES, emittedAtOf, envelopeBytes, epochMs, thinkingText } from './payload.ts';

describe('pace', () => {
  it('emits every event once, in order, in bursts of `burst` per event-loop turn without a rate', async () => {
    const emitted: number[] = [];
    const done = pace({ count: 10, burst: 4, emit: (i) => emitted.push(i) });
    // The first burst goes out synchronously; the rest only after pace has yielded to the loop.
    expect(emitted).toEqual([0, 1, 2, 3]);
    expect(await done).toBe(10);
    expect(emitted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('holds back while blocked and stops when aborted', async () => {
    const stop = new AbortController();
    let blockedChecks = 0;
    const emitted: number[] = [];
    const count = await pace({
      count: 100,
      burst: 1,
      signal: stop.signal,
      blocked: () => {
        blockedChecks += 1;
        if (blockedChecks === 3) stop.abort();
        return blockedChecks > 1;
      },
      emit: (i) => emitted.push(i),
    });
    expect(emitted).toEqual([0]);
    expect(count).toBe(1);
  });

  it('emits every event of a paced stream', async () => {
    const emitted: number[] = [];
    const count = await pace({ count: 5, ratePerSec: 2_000, burst: 1, phase: 0, emit: (i) => emitted.push(i) });
    expect(count).toBe(5);
    expect(emitted).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('payload', () => {
  it('pads the thinking text so that the whole event is about 300 bytes as JSON', () => {
    const ids = { runId: 'run_0f8e5b3a-1111-4222-8333-944445555666', userId: 's1u17', threadId: 'thread_x' };
    const text = thinkingText(epochMs(), envelopeBytes(ids));
    const event = {
      id: `${ids.runId}:100`,
      seq: 100,
      ...ids,
      at: new Date().toISOString(),
      type: 'agent_thinking',
      text,
      step: 100,
    };
    expect(Math.abs(JSON.stringify(event).length - EVENT_BYTES)).toBeLessThanOrEqual(2);
  });

  it('carries the emit time, readable back with sub-millisecond precision', () => {
    const at = 1_764_460_800_123.456;
    expect(emittedAtOf(thinkingText(at, 100))).toBe(at);
    expect(emittedAtOf('no stamp')).toBeNaN();
  });
});
