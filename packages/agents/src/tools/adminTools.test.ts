import { describe, expect, it } from 'vitest';
import { toolRunContext } from '../../test/support/toolRunContext.ts';
import type { ActiveRunInfo, HistoryPurge, RunControl } from '../ports.ts';
import { createCancelRunTool } from './cancelRun.ts';
import { createListActiveRunsTool } from './listActiveRuns.ts';
import { createPurgeHistoryTool } from './purgeHistory.ts';

// In-memory stand-ins for the factory's run control and the database's prune (the real ones live in
// other workspaces and are exercised by the integration tests in test/).
function runControl(runs: ActiveRunInfo[]): RunControl & { cancelled: { runId: string; reason?: string }[] } {
  const cancelled: { runId: string; reason?: string }[] = [];
  return {
    cancelled,
    activeRuns: () => runs.map((run) => ({ ...run, threadId: 'thread-x' })),
    cancelRun(runId, reason) {
      const index = runs.findIndex((run) => run.runId === runId);
      if (index < 0) return false;
      runs.splice(index, 1);
      cancelled.push(reason === undefined ? { runId } : { runId, reason });
      return true;
    },
  };
}

const admin = () => toolRunContext({ userId: 'root-admin', roles: ['user', 'admin'] });
const runs = (): ActiveRunInfo[] => [
  { runId: 'run-b', userId: 'bob-1234', agent: 'slow', startedAt: '2026-01-01T00:00:02.000Z' },
  { runId: 'run-a', userId: 'alice', agent: 'research', startedAt: '2026-01-01T00:00:01.000Z' },
];

describe('admin tools', () => {
  it('all declare access admin, so the dispatcher denies them to everyone else', () => {
    const control = runControl([]);
    const history: HistoryPurge = { prune: async () => ({ runs: 0, events: 0 }) };
    for (const tool of [
      createListActiveRunsTool(control),
      createCancelRunTool(control),
      createPurgeHistoryTool(history),
    ]) {
      expect(tool.access).toBe('admin');
      expect(tool.timeoutMs).toBeGreaterThan(0);
    }
  });

  it("list_active_runs lists every user's runs oldest first, with only the public fields", async () => {
    const tool = createListActiveRunsTool(runControl(runs()));
    expect(await tool.run(tool.input.parse({}), admin())).toEqual({
      count: 2,
      runs: [
        { runId: 'run-a', userId: 'alice', agent: 'research', startedAt: '2026-01-01T00:00:01.000Z' },
        { runId: 'run-b', userId: 'bob-1234', agent: 'slow', startedAt: '2026-01-01T00:00:02.000Z' },
      ],
    });
    expect(await tool.run(tool.input.parse({ agent: 'slow' }), admin())).toMatchObject({
      count: 1,
      runs: [{ runId: 'run-b' }],
    });
  });

  it("cancel_run cancels another user's run, names the admin as the reason, and reports unknown runs", async () => {
    const control = runControl(runs());
    const tool = createCancelRunTool(control);
    expect(await tool.run(tool.input.parse({ runId: 'run-b' }), admin())).toEqual({
      runId: 'run-b',
      cancelled: true,
    });
    expect(control.cancelled).toEqual([{ runId: 'run-b', reason: 'cancelled by admin root-admin' }]);
    expect(await tool.run(tool.input.parse({ runId: 'run-b' }), admin())).toEqual({
      runId: 'run-b',
      cancelled: false,
    });
  });

  it('purge_history passes the cut-off to the port and reports what was deleted', async () => {
    const calls: number[] = [];
    const tool = createPurgeHistoryTool({
      prune: async ({ olderThanMs }) => {
        calls.push(olderThanMs);
        return { runs: 3, events: 42 };
      },
    });
    expect(await tool.run(tool.input.parse({ olderThanMs: 60_000 }), admin())).toEqual({
      olderThanMs: 60_000,
      runs: 3,
      events: 42,
    });
    await tool.run(tool.input.parse({}), admin());
    expect(calls).toEqual([60_000, 30 * 86_400_000]);
    expect(tool.input.safeParse({ olderThanMs: -1 }).success).toBe(false);
  });
});
