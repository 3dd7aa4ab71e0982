import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@toolrun/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigRun } from './bigRun.ts';
import {
  DIST,
  ensureBuilt,
  launchBrowser,
  openAs,
  readTimeline,
  screenshot,
  startRunFromPage,
  type UserTab,
} from './browser.ts';
import { type DropProxy, startDropProxy } from './dropProxy.ts';

// The real server (SQLite file in a temp folder, ephemeral port) serving the built console, and
// Debian's headless Chromium: one browser for the file, one context per user. The browser reaches
// the server through a loopback TCP proxy that one test uses to cut the connections.

let server: RunningServer;
let browser: Browser;
let dataDir: string;
let alice: UserTab;
let proxy: DropProxy;
let base: string;

beforeAll(async () => {
  await ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'toolrun-web-e2e-'));
  server = await startServer({ database: join(dataDir, 'toolrun.db'), dataDir, consoleDir: DIST, graceMs: 500 });
  proxy = await startDropProxy(server.port);
  base = proxy.url;
  browser = await launchBrowser();
  alice = await openAs(browser, base, 'alice');
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

/** Starts `agent` from the live page with `input` (JSON text) and returns the new run's id. */
const startRun = (page: Page, agent: string, input?: string) => startRunFromPage(page, base, agent, input);

function card(page: Page, runId: string) {
  return page.locator(`[data-testid="run-card"][data-run-id="${runId}"]`);
}

/**
 * Starts a slow run, cuts the page's connections while its tool finishes and the run ends (the page
 * misses those events live), and checks the timeline: every event once, in order, ending with
 * agent_completed, after at least one drop (not merely finished before going offline).
 */
async function expectResumedAcrossDrop(page: Page): Promise<void> {
  const runId = await startRun(page, 'slow', '{ "steps": 6, "delayMs": 300 }');
  const c = card(page, runId);
  await c.locator('[data-testid="tl-row"][data-kind="tool"]').waitFor();
  await proxy.drop(2_500);
  await c.and(page.locator('[data-status="completed"]')).waitFor();
  const { seqs, rows } = await readTimeline(page, runId);
  // Sorted: slow_task's progress (agent_thinking) rows sit after its tool row, which carries both call events.
  expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  expect(rows.at(-1)?.kind).toBe('agent_completed');
  expect(Number(await c.getByTestId('link-state').getAttribute('data-drops'))).toBeGreaterThan(0);
}

describe('the console in a real browser', () => {
  it('as alice, starts a run and shows its five event types in order, each tool call as one completed row', async () => {
    const { page } = alice;
    await page.goto(`${base}/#/live`);
    // The agent's input is prefilled from its schema's defaults.
    await page.getByTestId('start-form').getByLabel('Agent').selectOption('research');
    await expect.poll(() => page.getByLabel('Input (JSON)').inputValue()).toContain('"question"');
    const runId = await startRun(page, 'research');
    await card(page, runId).and(page.locator('[data-status="completed"]')).waitFor();

    const { seqs, rows } = await readTimeline(page, runId);
    const n = seqs.length;
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(rows[0]?.kind).toBe('agent_started');
    expect(rows.at(-1)).toEqual({ kind: 'agent_completed', status: 'completed' });
    expect(rows.some((r) => r.kind === 'agent_thinking')).toBe(true);
    const tools = rows.filter((r) => r.kind === 'tool');
    expect(tools.length).toBeGreaterThan(0);
    expect(tools.every((r) => r.status === 'success')).toBe(true);
    // Rows are in seq order of their first event.
    const firsts = await card(page, runId)
      .locator('[data-testid="tl-row"]')
      .evaluateAll((nodes) => nodes.map((el) => Number((el as HTMLElement).dataset.seq)));
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    await screenshot(page, 'live');

    // The stored run replays the same events: all five types, in seq order, stepping with the keyboard.
    await page.goto(`${base}/#/runs/${encodeURIComponent(runId)}`);
    const replay = page.getByTestId('replay-row');
    await replay.first().waitFor();
    const types = await replay.evaluateAll((nodes) => nodes.map((el) => (el as HTMLElement).dataset.type));
    expect(types[0]).toBe('agent_started');
    expect(types.at(-1)).toBe('agent_completed');
    expect(new Set(types)).toEqual(
      new Set(['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed']),
    );
    expect(types.indexOf('tool_executing')).toBeLessThan(types.indexOf('tool_completed'));
    await expect.poll(() => page.getByTestId('replay-position').textContent()).toBe(`event ${n} of ${n}`);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('k');
    await expect.poll(() => page.getByTestId('replay-position').textContent()).toBe(`event ${n - 2} of ${n}`);
    await page.keyboard.press('Home');
    await expect.poll(() => page.getByTestId('replay-selected').textContent()).toContain('"agent_started"');
    await screenshot(page, 'run-detail');

    await page.goto(`${base}/#/history`);
    await page.locator(`[data-testid="history-row"][data-run-id="${runId}"]`).waitFor();
    await screenshot(page, 'history');
  });

  it("never shows alice's run to bob, live or in history", async () => {
    const runId = await startRun(alice.page, 'slow', '{ "steps": 60, "delayMs": 250 }');
    const bob = await openAs(browser, base, 'bob');
    try {
      const { page } = bob;
      await page.goto(`${base}/#/live`);
      const bobRun = await startRun(page, 'calculator');
      await card(page, bobRun).and(page.locator('[data-status="completed"]')).waitFor();
      // "Running now" was loaded while alice's run was going, and does not list it.
      await page.getByTestId('running-none').waitFor();
      expect(await page.getByTestId('run-card').count()).toBe(1);
      expect(await page.content()).not.toContain(runId);

      await page.goto(`${base}/#/history`);
      await page.locator(`[data-testid="history-row"][data-run-id="${bobRun}"]`).waitFor();
      expect(
        await page
          .locator('[data-testid="history-row"]')
          .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.runId)),
      ).toEqual([bobRun]);
      expect(await page.getByTestId('history-table').textContent()).not.toContain('alice');

      // Even with the id in hand, the run is not found for bob.
      await page.goto(`${base}/#/runs/${encodeURIComponent(runId)}`);
      await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('NOT_FOUND');
      expect(await page.getByTestId('replay-row').count()).toBe(0);
      // Nor can bob stream it live: planted in his tab's followed runs, the stream is refused.
      await page.evaluate((id) => {
        sessionStorage.setItem('toolrun.liveRuns.bob', JSON.stringify([{ runId: id, agent: 'slow', threadId: 'x' }]));
      }, runId);
      await page.goto(`${base}/#/live`);
      await page.reload();
      const planted = card(page, runId);
      await planted.locator('[data-testid="link-state"][data-state="failed"]').waitFor();
      expect(await planted.locator('[data-testid="tl-row"]').count()).toBe(0);
      expect(await planted.textContent()).toContain('NOT_FOUND');
      expect(await page.getByTestId('whoami').textContent()).toContain('bob');
      expect(bob.errors).toEqual([]);
    } finally {
      await bob.context.close();
    }
    // All of that happened while alice's run was live.
    const aliceCard = card(alice.page, runId);
    expect(await aliceCard.getAttribute('data-status')).toBe('running');
    await aliceCard.getByRole('button', { name: 'Cancel' }).click();
    await aliceCard.and(alice.page.locator('[data-status="cancelled"]')).waitFor();
  });

  it('cancels a run: it ends cancelled, with its tool call and its last event', async () => {
    const { page } = alice;
    const runId = await startRun(page, 'slow', '{ "steps": 40, "delayMs": 250 }');
    const c = card(page, runId);
    await c.locator('[data-testid="tl-row"][data-kind="tool"][data-status="executing"]').waitFor();
    await c.getByRole('button', { name: 'Cancel' }).click();
    await c.and(page.locator('[data-status="cancelled"]')).waitFor();
    const { seqs, rows } = await readTimeline(page, runId);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(rows.find((r) => r.kind === 'tool')?.status).toBe('cancelled');
    expect(rows.at(-1)).toEqual({ kind: 'agent_completed', status: 'cancelled' });
    await expect.poll(() => c.getByTestId('link-state').getAttribute('data-state')).toBe('ended');

    await page.goto(`${base}/#/history?status=cancelled`);
    await page.locator(`[data-testid="history-row"][data-run-id="${runId}"]`).waitFor();
  });

  it('resumes a dropped stream and shows every event once', async () => {
    const { page } = alice;
    await expectResumedAcrossDrop(page);
    expect(alice.errors).toEqual([]);
  });

  it('streams over WebSocket too, and resumes a dropped socket without gap or duplicate', async () => {
    const { page } = alice;
    await page.goto(`${base}/#/live`);
    await page.getByLabel('Subscription transport').selectOption('ws');
    await expectResumedAcrossDrop(page);
    await page.getByLabel('Subscription transport').selectOption('sse');
    expect(alice.errors).toEqual([]);
  });

  it('replays a stored run of 10,000 events smoothly: only the rows in view are in the page', async () => {
    // A stored run written through the server's own persistent sink (real SQLite), as a fixture.
    const runId = `run_big_${Date.now()}`;
    const events = bigRun(runId, 'alice', 10_000);
    await server.services.sink.write(events);
    await server.services.sink.flush();

    const { page } = alice;
    await page.goto(`${base}/#/runs/${encodeURIComponent(runId)}`);
    await expect
      .poll(() => page.getByTestId('replay-position').textContent(), { timeout: 20_000 })
      .toBe('event 10000 of 10000');
    expect(await page.getByTestId('replay-row').count()).toBeLessThan(150);
    // The waterfall draws a bounded number of bars, whatever the run's size.
    expect(await page.getByTestId('waterfall-bar').count()).toBeLessThanOrEqual(300);
    await page.keyboard.press('Home');
    await expect.poll(() => page.getByTestId('replay-position').textContent()).toBe('event 1 of 10000');
    await page.locator('[data-testid="replay-row"][data-seq="1"]').waitFor();
    for (let i = 0; i < 5; i++) await page.keyboard.press('PageDown');
    await expect.poll(() => page.getByTestId('replay-position').textContent()).toBe('event 101 of 10000');
    await page.locator('[data-testid="replay-row"][data-seq="101"][aria-current="step"]').waitFor();
    await page.keyboard.press('End');
    await page.locator('[data-testid="replay-row"][data-seq="10000"]').waitFor();
    expect(await page.getByTestId('replay-row').count()).toBeLessThan(150);
    await screenshot(page, 'run-detail-10k');
  });

  it('as the admin, runs an isolation audit and sees it pass; tools and metrics render', async () => {
    const admin = await openAs(browser, base, 'admin', { admin: true });
    try {
      const { page } = admin;
      await page.goto(`${base}/#/audits`);
      const form = page.getByTestId('audit-form');
      await form.getByLabel('Users (N)').fill('4');
      await form.getByLabel('Runs per user (M)').fill('2');
      await form.getByRole('button', { name: 'Run audit' }).click();
      const report = page.locator('[data-testid="audit-report"]').first();
      await report.waitFor({ timeout: 45_000 });
      expect(await report.getAttribute('data-verdict')).toBe('pass');
      expect(await report.textContent()).toContain('PASS');
      await expect.poll(() => page.getByTestId('audit-list').textContent()).toContain('PASS');
      await screenshot(page, 'audits');

      // Admin tools are listed for the admin only.
      await page.goto(`${base}/#/tools`);
      await page.getByTestId('tool-row').first().waitFor();
      expect(await page.locator('[data-testid="tool-row"][data-access="admin"]').count()).toBeGreaterThan(0);
      await screenshot(page, 'tools-admin');
      await alice.page.goto(`${base}/#/tools`);
      await alice.page.getByTestId('tool-row').first().waitFor();
      expect(await alice.page.locator('[data-testid="tool-row"][data-access="admin"]').count()).toBe(0);

      await page.goto(`${base}/#/metrics`);
      await page.getByTestId('metrics-figures').waitFor();
      await page.locator('.uplot canvas').first().waitFor();
      await expect.poll(() => page.locator('.uplot').count()).toBe(5);
      await page.waitForTimeout(1_500);
      await screenshot(page, 'metrics');

      await page.goto(`${base}/#/identity`);
      await screenshot(page, 'identity');
      expect(admin.errors).toEqual([]);
    } finally {
      await admin.context.close();
    }
  });

  it('as the admin, switches a tool off and on again with a reason that alice sees; the metrics page shows the health verdict', async () => {
    const admin = await openAs(browser, base, 'admin', { admin: true });
    try {
      const { page } = admin;
      await page.goto(`${base}/#/tools`);
      const row = page.locator('[data-testid="tool-row"][data-tool="search"]');
      await row.getByLabel('reason to disable search').fill('index rebuild');
      await row.getByRole('button', { name: 'Disable' }).click();
      await row.locator('[data-testid="tool-switch"][data-enabled="false"]').waitFor();
      expect(await row.textContent()).toContain('disabled by admin: index rebuild');
      await screenshot(page, 'tools-kill-switch');

      await alice.page.goto(`${base}/#/tools`);
      // A fresh load: the tab may hold the tool list from before the switch.
      await alice.page.reload();
      const aliceRow = alice.page.locator('[data-testid="tool-row"][data-tool="search"]');
      await aliceRow.locator('[data-testid="tool-switch"][data-enabled="false"]').waitFor();
      // Only admins get the switch.
      expect(await aliceRow.getByRole('button', { name: /^(Disable|Enable)$/ }).count()).toBe(0);

      await row.getByLabel('reason to enable search').fill('rebuilt');
      await row.getByRole('button', { name: 'Enable' }).click();
      await row.locator('[data-testid="tool-switch"][data-enabled="true"]').waitFor();

      await page.goto(`${base}/#/metrics`);
      const health = page.getByTestId('health-panel');
      await health.and(page.locator('[data-status="ok"]')).waitFor();
      expect(await health.getByTestId('canary').textContent()).toContain('off');
      expect(admin.errors).toEqual([]);
    } finally {
      await admin.context.close();
    }
  });

  it('shows a run as a waterfall: parallel calls overlapping on one axis, sub-agent calls nested under their agent: call', async () => {
    const { page } = alice;
    const bars = async (runId: string) => {
      await page.goto(`${base}/#/runs/${encodeURIComponent(runId)}`);
      await page.reload();
      await page.getByTestId('waterfall-bar').first().waitFor();
      // The page refetches a run it first saw running every 2 s; wait for the stored run's end.
      await expect
        .poll(() => page.locator('[data-testid="waterfall-bar"][data-status="executing"]').count(), { timeout: 10_000 })
        .toBe(0);
      return page.getByTestId('waterfall-bar').evaluateAll((nodes) =>
        nodes.map((n) => {
          const d = (n as HTMLElement).dataset;
          return {
            callId: d.callId ?? '',
            depth: Number(d.depth),
            parent: d.parentCallId ?? '',
            start: Number(d.startMs),
            end: Number(d.endMs),
            status: d.status ?? '',
          };
        }),
      );
    };

    const parallelRun = await startRun(page, 'parallel');
    await card(page, parallelRun).and(page.locator('[data-status="completed"]')).waitFor();
    const parallel = await bars(parallelRun);
    expect(parallel.length).toBeGreaterThan(2);
    // The run's own calls, every one ended (whatever its status): none nested, none left open.
    expect(parallel.map((b) => [b.depth, b.status === 'executing'])).toEqual(parallel.map(() => [0, false]));
    expect(parallel.some((a) => parallel.some((b) => a !== b && a.start < b.end && b.start < a.end))).toBe(true);
    await screenshot(page, 'waterfall-parallel');

    const delegateRun = await startRun(page, 'delegate');
    await card(page, delegateRun).and(page.locator('[data-status="completed"]')).waitFor();
    const delegate = await bars(delegateRun);
    const nested = delegate.filter((b) => b.depth === 1);
    expect(nested.length).toBeGreaterThan(0);
    for (const bar of nested) {
      const parentIndex = delegate.findIndex((b) => b.callId === bar.parent);
      expect(parentIndex).toBeGreaterThanOrEqual(0);
      expect(delegate.indexOf(bar)).toBeGreaterThan(parentIndex);
    }
    // A click shows the call's input and output.
    await page.getByTestId('waterfall-bar').first().click();
    expect(await page.getByTestId('waterfall-detail').textContent()).toContain('input');
    await screenshot(page, 'waterfall-delegate');
    expect(alice.errors).toEqual([]);
  });
});
