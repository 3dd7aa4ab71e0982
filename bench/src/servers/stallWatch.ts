/** What a {@link StallWatch} saw since it was last reset. */
export interface Stalls {
  /** Gaps of at least the threshold between two ticks that were due `intervalMs` apart. */
  count: number;
  /** Their total length (ms), past the due time: how long the event loop did not run its timers. */
  totalMs: number;
  longestMs: number;
  /**
   * CPU the process used during those gaps (ms, every thread: the event loop, the writer thread,
   * GC helpers). Far below `totalMs` means the process was waiting for a core, not working: the
   * machine, not the code, held every event that was in flight in it.
   */
  cpuMs: number;
}

/** A timer that notes each time the event loop ran it late. */
export interface StallWatch {
  /** The stalls so far; `reset` starts a new window. */
  read(reset: boolean): Stalls;
  stop(): void;
}

/** Clocks a {@link StallWatch} reads (injectable for tests). */
export interface StallClocks {
  /** Monotonic ms. */
  now(): number;
  /** The process's CPU time so far, in µs (user + system). */
  cpuUs(): number;
}

const processClocks: StallClocks = {
  now: () => performance.now(),
  cpuUs: () => {
    const cpu = process.cpuUsage();
    return cpu.user + cpu.system;
  },
};

/**
 * Watches a server host's event loop for stalls: a timer due every `intervalMs` (default 5) that
 * comes `thresholdMs` (default 25) or more late counts as one, with the CPU the process spent
 * meanwhile. The event-loop delay histogram says how late timers ran, not whether the process was
 * busy or off the CPU; issue 21's tail is the latter on a shared machine (BENCHMARKS.md).
 * `schedule` is how the next tick is set (a real unref'ed timer unless a test drives `tick` itself).
 */
export function createStallWatch(
  opts: {
    intervalMs?: number;
    thresholdMs?: number;
    clocks?: StallClocks;
    schedule?: (tick: () => void, ms: number) => () => void;
  } = {},
): StallWatch & { tick(): void } {
  const intervalMs = opts.intervalMs ?? 5;
  const thresholdMs = opts.thresholdMs ?? 25;
  const clocks = opts.clocks ?? processClocks;
  const schedule =
    opts.schedule ??
    ((tick: () => void, ms: number) => {
      const timer = setTimeout(tick, ms);
      timer.unref();
      return () => clearTimeout(timer);
    });
  let stalls: Stalls = { count: 0, totalMs: 0, longestMs: 0, cpuMs: 0 };
  let last = clocks.now();
  let lastCpu = clocks.cpuUs();
  let cancel: (() => void) | undefined;
  let stopped = false;
  const tick = (): void => {
    const now = clocks.now();
    const cpu = clocks.cpuUs();
    const late = now - last - intervalMs;
    if (late >= thresholdMs) {
      stalls.count += 1;
      stalls.totalMs += late;
      stalls.longestMs = Math.max(stalls.longestMs, late);
      stalls.cpuMs += (cpu - lastCpu) / 1000;
    }
    last = now;
    lastCpu = cpu;
    if (!stopped) cancel = schedule(tick, intervalMs);
  };
  cancel = schedule(tick, intervalMs);
  return {
    tick,
    read(reset) {
      const round = (n: number) => Math.round(n * 10) / 10;
      const out = {
        count: stalls.count,
        totalMs: round(stalls.totalMs),
        longestMs: round(stalls.longestMs),
        cpuMs: round(stalls.cpuMs),
      };
      if (reset) stalls = { count: 0, totalMs: 0, longestMs: 0, cpuMs: 0 };
      return out;
    },
    stop() {
      stopped = true;
      cancel?.();
    },
  };
}
