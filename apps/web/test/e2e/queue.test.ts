import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@toolrun/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ensureBuilt, launchBrowser, openAs, screenshot, startRunFromPage } from './browser.ts';

// A real server with a concurrent-run limit of 1 per user, serving the built console, and Debian's
// headless Chromium: the queue and a stalled tool as a user sees them.

let server: RunningServer;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  await ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'toolrun-web-queue-'));
  server = await startServer({
    database: join(dataDir, 'toolrun.db'),
    dataDir,
    consoleDir: DIST,
    graceMs: 500,
    limits: { maxConcurrentRunsPerUser: 1 },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

const startRun = (page: Page, agent: string, input: string) => startRunFromPage(page, server.url, agent, input);

const card = (page: Page, runId: string) => page.locator(`[data-testid="run-card"][data-run-id="${runId}"]`);

describe('the queue and stalled tools in the console', () => {
  it('shows queued runs with their live position, and starts them in turn', async () => {
    const { page } = await openAs(browser, server.url, 'quinn');
    const long = await startRun(page, 'slow', '{ "steps": 100, "delayMs": 500 }');
    const second = await startRun(page, 'calculator', '{}');
    const third = await startRun(page, 'calculator', '{}');
    await card(page, third).and(page.locator('[data-status="queued"]')).waitFor();
    await expect.poll(() => card(page, second).getByTestId('queue-position').getAttribute('data-position')).toBe('1');
    await expect.poll(() => card(page, third).getByTestId('queue-position').getAttribute('data-position')).toBe('2');
    await screenshot(page, 'queue');
    // A slot frees: the next run starts and the one behind it moves up, without a reload.
    await card(page, long).getByRole('button', { name: 'Cancel' }).click();
    await card(page, second).and(page.locator('[data-status="completed"]')).waitFor();
    await card(page, third).and(page.locator('[data-status="completed"]')).waitFor();
    expect(await card(page, third).getByTestId('queue-position').count()).toBe(0);
  });

  it('shows a stalled tool as stopped for want of a heartbeat', async () => {
    const { page } = await openAs(browser, server.url, 'stella');
    const runId = await startRun(page, 'slow', '{ "steps": 2, "delayMs": 10, "stallAtStep": 1 }');
    const error = card(page, runId).getByTestId('tool-error');
    await error.waitFor({ timeout: 30_000 });
    expect(await error.getAttribute('data-code')).toBe('STALLED');
    expect(await error.textContent()).toContain('Stalled (no heartbeat)');
    await screenshot(page, 'stalled');
  });
});
