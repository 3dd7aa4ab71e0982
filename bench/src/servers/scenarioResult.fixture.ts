import type { TransportName } from './protocol.ts';
import type { ScenarioResult } from './runScenario.ts';

/** A scenario result for tests: plausible figures, `over` replacing any of them. */
export function scenarioResult(
  transport: TransportName,
  users: number,
  mode: 'max' | 'rate',
  over: Partial<ScenarioResult> = {},
) {
  return {
    transport,
    users,
    mode,
    offered: mode === 'rate' ? 20_000 : null,
    expected: 100,
    received: 100,
    messages: 100,
    eventsPerSec: 10_000,
    p50Ms: 1,
    p99Ms: 5,
    maxMs: 6,
    serverP50Ms: 0.5,
    serverP99Ms: 2,
    clientP50Ms: 0.05,
    clientP99Ms: 0.5,
    queueP50Ms: 0.45,
    queueP99Ms: 2.5,
    reader: 'lean',
    clientProcesses: 1,
    deadlineMs: 8_000,
    serverCpuUsPerEvent: 30,
    clientCpuUsPerEvent: 20,
    serverLoopDelayP99Ms: 5,
    clientLoopDelayP99Ms: 5,
    serverGc: { count: 1, totalMs: 2, maxMs: 2 },
    serverStalls: { count: 0, totalMs: 0, longestMs: 0, cpuMs: 0 },
    clientStalls: { count: 0, totalMs: 0, longestMs: 0, cpuMs: 0 },
    connectFailures: 0,
    errors: 0,
    timedOut: false,
    ...over,
  } satisfies ScenarioResult;
}
