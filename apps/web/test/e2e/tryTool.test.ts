import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@toolrun/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ensureBuilt, launchBrowser, openAs, readTimeline, screenshot, type UserTab } from './browser.ts';

// The Tools page's "Try it" form in headless Chromium against a real server (SQLite file in a temp
// folder, ephemeral port): a tool runs once, directly, as a one-call run with its live timeline.

let server: RunningServer;
let browser: Browser;
let dataDir: string;
let alice: UserTab;

beforeAll(async () => {
  await ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'toolrun-web-try-'));
  server = await startServer({ database: join(dataDir, 'toolrun.db'), dataDir, consoleDir: DIST, graceMs: 500 });
  browser = await launchBrowser();
  alice = await openAs(browser, server.url, 'alice');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

/** Opens the Try it form of `tool` on the Tools page. */
async function tryTool(page: Page, tool: string) {
  await page.goto(`${server.url}/#/tools`);
  await page.getByRole('button', { name: `Try ${tool}`, exact: true }).click();
  const form = page.locator(`[data-testid="try-tool"][data-tool="${tool}"]`);
  await form.waitFor();
  return form;
}

describe('the Tools page, Try it', () => {
  it("runs a tool from a form built from its schema and shows the one-call run's live timeline, stored in history", async () => {
    const { page } = alice;
    const form = await tryTool(page, 'calculator');
    await form.getByLabel('expression', { exact: false }).first().fill('6*7');
    await form.getByRole('button', { name: 'Run tool' }).click();
    const card = form.getByTestId('run-card');
    await card.and(page.locator('[data-status="completed"]')).waitFor();
    const runId = (await card.getAttribute('data-run-id')) ?? '';
    const { seqs, rows } = await readTimeline(page, runId);
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(rows).toEqual([
      { kind: 'agent_started', status: null },
      { kind: 'tool', status: 'success' },
      { kind: 'agent_completed', status: 'completed' },
    ]);
    await expect.poll(() => card.textContent()).toContain('42');
    await screenshot(page, 'tools-try-it');

    // The one-call run is an ordinary run of alice's: the history lists it.
    await page.goto(`${server.url}/#/history`);
    await page.locator(`[data-testid="history-row"][data-run-id="${runId}"]`).waitFor();
  });

  it('shows an invalid input as the call failing inside the run, and cancels a long call from its card', async () => {
    const { page } = alice;
    const calc = await tryTool(page, 'calculator');
    await calc.getByLabel('expression', { exact: false }).first().fill('6*');
    await calc.getByRole('button', { name: 'Run tool' }).click();
    const failed = calc.getByTestId('run-card');
    await failed.and(page.locator('[data-status="completed"]')).waitFor();
    const { rows } = await readTimeline(page, (await failed.getAttribute('data-run-id')) ?? '');
    expect(rows[1]).toEqual({ kind: 'tool', status: 'error' });

    const slow = await tryTool(page, 'slow_task');
    await slow.getByLabel('steps', { exact: false }).first().fill('100');
    await slow.getByLabel('delayMs', { exact: false }).first().fill('400');
    await slow.getByRole('button', { name: 'Run tool' }).click();
    const card = slow.getByTestId('run-card');
    await card.locator('[data-testid="tl-row"][data-kind="tool"]').waitFor();
    await card.getByRole('button', { name: 'Cancel' }).click();
    await card.and(page.locator('[data-status="cancelled"]')).waitFor();
    const ended = await readTimeline(page, (await card.getAttribute('data-run-id')) ?? '');
    expect(ended.rows.at(-1)).toEqual({ kind: 'agent_completed', status: 'cancelled' });
    expect(alice.errors).toEqual([]);
  });
});
