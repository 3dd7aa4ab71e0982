import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@toolrun/server';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ensureBuilt, launchBrowser, openAs, readTimeline, screenshot, type UserTab } from './browser.ts';

// The real server (SQLite file in a temp folder) serving the built console, and headless Chromium
// with two browser contexts signed in as the same user: two devices, each with its own storage.

let server: RunningServer;
let browser: Browser;
let dataDir: string;
let first: UserTab;
let second: UserTab;

beforeAll(async () => {
  await ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'toolrun-web-approvals-'));
  server = await startServer({ database: join(dataDir, 'toolrun.db'), dataDir, consoleDir: DIST, graceMs: 500 });
  browser = await launchBrowser();
  first = await openAs(browser, server.url, 'alice');
  second = await openAs(browser, server.url, 'alice');
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

describe('approvals in the console', () => {
  it('alice starts payout in one browser, sees the pending approval in its timeline, approves it from a second browser context, and the run completes in both', async () => {
    const { page } = first;
    await page.goto(`${server.url}/#/live`);
    const form = page.getByTestId('start-form');
    await form.getByLabel('Agent').selectOption('payout');
    await expect.poll(() => page.getByLabel('Input (JSON)').inputValue()).toContain('"amount"');
    await form.getByRole('button', { name: 'Start run' }).click();
    const card = page.locator('[data-testid="run-card"]').first();
    const runId = await card.getAttribute('data-run-id');
    if (runId === null) throw new Error('no run card');
    // The first tab shows the pending approval in the run's timeline, with its buttons, and in the badge.
    const row = card.locator('[data-testid="approval-row"][data-approval-state="requested"]');
    await row.getByRole('button', { name: 'Approve' }).waitFor();
    await expect.poll(() => page.getByTestId('approvals-badge').getAttribute('data-count')).toBe('1');
    await screenshot(page, 'approval-pending');

    // The second context (another device) sees it live in its header badge and approves it there.
    const other = second.page;
    await other.goto(`${server.url}/#/live`);
    const badge = other.getByTestId('approvals-badge');
    await expect.poll(() => badge.getAttribute('data-count')).toBe('1');
    await badge.click();
    const item = other.getByTestId('approval-item');
    await expect.poll(() => item.count()).toBe(1);
    await item.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => badge.getAttribute('data-count')).toBe('0');

    // The first tab sees the decision and the completed run, without a reload.
    await card.and(page.locator('[data-status="completed"]')).waitFor();
    await expect.poll(() => page.getByTestId('approvals-badge').getAttribute('data-count')).toBe('0');
    await expect.poll(() => row.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await card.locator('[data-testid="approval-row"][data-approval-state="approved"]').waitFor();
    const { seqs, rows } = await readTimeline(page, runId);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(rows.find((r) => r.kind === 'tool')).toEqual({ kind: 'tool', status: 'success' });
    expect(rows.at(-1)).toEqual({ kind: 'agent_completed', status: 'completed' });
    const transfers = await server.services.db.scratchpad.get('alice', 'payout.transfers');
    expect(transfers).toEqual([expect.objectContaining({ amount: 25, to: 'bob' })]);
    await screenshot(page, 'approval-approved');
    expect([...first.errors, ...second.errors]).toEqual([]);
  });
});
