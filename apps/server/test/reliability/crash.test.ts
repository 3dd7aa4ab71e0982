import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, within } from '../helpers.ts';
import type { ChildServer } from './support/childServer.ts';
import { freePort, killAllChildServers, spawnServer } from './support/childServer.ts';
import { reportFigures } from './support/figures.ts';
import type { DatabaseInspection } from './support/inspectDatabase.ts';
import { inspectDatabase } from './support/inspectDatabase.ts';
import { reliabilityParams } from './support/params.ts';
import { createRandom } from './support/random.ts';
import { runLoad } from './support/runLoad.ts';
import { storedEvents } from './support/storedEvents.ts';
import { problemsOf, verifyLoad } from './support/verifyLoad.ts';

const params = reliabilityParams();
const stop = new AbortController();
setMaxListeners(0, stop.signal);
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  stop.abort();
  await killAllChildServers();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Crash extends DatabaseInspection {
  /** How long the load ran since the previous (re)start before the kill. */
  afterMs: number;
  /** From the kill until the restarted server answered /healthz. */
  downMs: number;
}

describe('crash', () => {
  it(`SIGKILLed ${params.crashes} times at random moments under load by ${params.crashUsers} users, restarted on the same database: the file stays sound, every run ends, clients resume without gap or duplicate`, {
    timeout: params.crashTimeoutMs + 60_000,
  }, async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const dbPath = join(tmp.dir, 'toolrun.db');
    const port = await freePort();
    let child: ChildServer = await spawnServer({ port, dataDir: tmp.dir });
    const rng = createRandom(params.seed + 7);
    const stopStarting = new AbortController();
    setMaxListeners(0, stopStarting.signal);
    const startedAt = Date.now();
    const load = runLoad({
      baseUrl: child.url,
      userPrefix: 'crash',
      users: params.crashUsers,
      // Users keep starting runs until the crashes are over.
      runsPerUser: 100_000,
      concurrentUsers: params.crashUsers,
      cancelRate: params.cancelRate,
      disconnectRate: params.disconnectRate,
      seed: params.seed + 11,
      deadline: Date.now() + params.crashTimeoutMs,
      signal: stop.signal,
      stopStarting: stopStarting.signal,
      feedEvery: 5,
    });

    const crashes: Crash[] = [];
    const killTimes: number[] = [];
    try {
      for (let i = 0; i < params.crashes; i += 1) {
        const afterMs = rng.int(300, 2_500);
        await sleep(afterMs);
        const killedAt = Date.now();
        killTimes.push(killedAt);
        const exit = await child.stop('SIGKILL');
        expect(exit.signal).toBe('SIGKILL');
        // The file exactly as the crash left it, before anything reopens it.
        const inspection = inspectDatabase(dbPath);
        child = await spawnServer({ port, dataDir: tmp.dir });
        crashes.push({ ...inspection, afterMs, downMs: Date.now() - killedAt });
      }
      // Some load on the last server too, then every user finishes its current run.
      await sleep(1_000);
    } finally {
      stopStarting.abort();
    }
    const logs = await within(load, params.crashTimeoutMs, 'the load across crashes');
    const durationMs = Date.now() - startedAt;
    const exit = await child.stop('SIGTERM');
    const final = inspectDatabase(dbPath);

    // Reopen in-process to read what is stored, through the same code the API uses.
    const reopened = await startTestServer({ database: dbPath });
    cleanups.push(() => reopened.stop());
    const figures = verifyLoad(logs, await storedEvents(reopened.services.db));

    // For each vanished run: when its start was acknowledged, relative to the nearest kill (ms; + is after `kill()` was called).
    const acknowledged = new Map(logs.flatMap((u) => u.runs.map((r) => [r.runId, r.acknowledgedAt] as const)));
    const vanishedAckMinusKillMs = figures.vanishedRunIds.map((id) => {
      const at = acknowledged.get(id) ?? 0;
      return killTimes
        .map((k) => at - k)
        .reduce((a, b) => (Math.abs(b) < Math.abs(a) ? b : a), Number.POSITIVE_INFINITY);
    });
    reportFigures(params.soak ? 'crash-soak' : 'crash', {
      seed: params.seed,
      durationMs,
      crashes: crashes.length,
      runsInterruptedByCrashes: crashes.reduce((n, c) => n + c.running, 0),
      maxDownMs: Math.max(0, ...crashes.map((c) => c.downMs)),
      integrity: [...new Set([...crashes.map((c) => c.integrity), final.integrity])],
      storedRuns: final.runs,
      storedEventsInFile: final.events,
      runningAfterStop: final.running,
      notTerminalInFile: final.notTerminal,
      seqGapsInFile: final.seqGaps,
      ...figures,
      vanishedAckMinusKillMs,
      gracefulExit: exit,
    });

    for (const crash of crashes)
      expect({ integrity: crash.integrity, seqGaps: crash.seqGaps, notTerminal: crash.notTerminal }).toEqual({
        integrity: 'ok',
        seqGaps: 0,
        notTerminal: 0,
      });
    expect(final).toMatchObject({ integrity: 'ok', running: 0, seqGaps: 0, notTerminal: 0 });
    expect(exit.code).toBe(0);
    expect(reopened.services.db.recovered).toEqual([]);
    expect(problemsOf(figures)).toEqual([]);
    expect(figures.runs).toBeGreaterThan(0);
    // A run whose start was acknowledged must survive a crash (as interrupted at worst), not disappear.
    expect(figures.vanishedRunIds, 'runs acknowledged by runs.start, then unknown after the restart').toEqual([]);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
