import { describe, expect, it } from 'vitest';
import { createStallWatch } from './stallWatch.ts';

/** A watch on hand-driven clocks: `advance(ms, cpuMs)` moves them, then the timer fires. */
function driven() {
  let now = 0;
  let cpuUs = 0;
  const watch = createStallWatch({
    intervalMs: 5,
    thresholdMs: 25,
    clocks: { now: () => now, cpuUs: () => cpuUs },
    schedule: () => () => {},
  });
  return {
    watch,
    advance(ms: number, cpuMs: number) {
      now += ms;
      cpuUs += cpuMs * 1000;
      watch.tick();
    },
  };
}

describe('createStallWatch', () => {
  it('counts a timer that ran 25 ms or more late as a stall, with the CPU the process spent meanwhile', () => {
    const { watch, advance } = driven();
    advance(5, 1); // on time
    advance(20, 15); // 15 ms late: loop delay, not a stall
    advance(105, 4); // 100 ms late while the process used 4 ms: off the CPU
    advance(45, 40); // 40 ms late, busy
    expect(watch.read(false)).toEqual({ count: 2, totalMs: 140, longestMs: 100, cpuMs: 44 });
  });

  it('starts a new window when read with reset', () => {
    const { watch, advance } = driven();
    advance(55, 0);
    expect(watch.read(true).count).toBe(1);
    advance(5, 0);
    expect(watch.read(false)).toEqual({ count: 0, totalMs: 0, longestMs: 0, cpuMs: 0 });
  });
});
