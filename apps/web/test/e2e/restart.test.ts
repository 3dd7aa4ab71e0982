import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, ensureBuilt, launchBrowser, openAs, readTimeline, screenshot, type UserTab } from './browser.ts';
import { freePort, type ServerProcess, spawnServer } from './serverProcess.ts';

// The server runs as a child process (its real entry point, a SQLite file in a temp folder) so the
// test can stop it mid-run and start it again on the same port with the same database.

let browser: Browser;
let dataDir: string;
let env: Record<string, string>;
let server: ServerProcess | undefined;
let alice: UserTab;

beforeAll(async () => {
  await ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'toolrun-web-restart-'));
  env = {
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    TOOLRUN_DATA_DIR: dataDir,
    TOOLRUN_CONSOLE_DIR: DIST,
    TOOLRUN_GRACE_MS: '300',
  };
  server = await spawnServer(env);
  browser = await launchBrowser();
  alice = await openAs(browser, server.url, 'alice');
});

afterAll(async () => {
  await browser?.close();
  await server?.stop('SIGKILL');
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

async function startSlowRun(page: Page, base: string): Promise<string> {
  await page.goto(`${base}/#/live`);
  const form = page.getByTestId('start-form');
  await form.getByLabel('Agent').selectOption('slow');
  await form.getByLabel('Input (JSON)').fill('{ "steps": 60, "delayMs": 250 }');
  const before = await page.getByTestId('run-card').count();
  await form.getByRole('button', { name: 'Start run' }).click();
  await expect.poll(() => page.getByTestId('run-card').count()).toBe(before + 1);
  const runId = await page.getByTestId('run-card').first().getAttribute('data-run-id');
  if (runId === null) throw new Error('no run card');
  return runId;
}

/** Every seq once, 1…n, and the run's last event shown last with `status`. */
async function expectWholeRun(page: Page, runId: string, status: string): Promise<number> {
  const { seqs, rows } = await readTimeline(page, runId);
  // Sorted: slow_task's progress (agent_thinking) rows sit after its tool row, which carries both call events.
  expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  expect(rows.at(-1)).toEqual({ kind: 'agent_completed', status });
  expect(rows.filter((r) => r.kind === 'tool').every((r) => r.status !== 'executing')).toBe(true);
  return seqs.length;
}

describe('the console across a server restart', () => {
  it('resumes after the server is killed mid-run and restarted: the rest of the run, no gap, no duplicate', async () => {
    const { page } = alice;
    const base = server?.url ?? '';
    const runId = await startSlowRun(page, base);
    const card = page.locator(`[data-testid="run-card"][data-run-id="${runId}"]`);
    await card.locator('[data-testid="tl-row"][data-kind="tool"][data-status="executing"]').waitFor();
    const seenBefore = (await readTimeline(page, runId)).seqs.length;

    await server?.stop('SIGKILL');
    await expect.poll(() => card.getByTestId('link-state').getAttribute('data-state')).toBe('reconnecting');
    await screenshot(page, 'restart-reconnecting');

    server = await spawnServer(env);
    // Crash recovery closes the run as interrupted; the page gets those events by resuming.
    await card.and(page.locator('[data-status="interrupted"]')).waitFor({ timeout: 30_000 });
    const total = await expectWholeRun(page, runId, 'interrupted');
    expect(total).toBeGreaterThan(seenBefore);
    expect(Number(await card.getByTestId('link-state').getAttribute('data-drops'))).toBeGreaterThan(0);
    await screenshot(page, 'restart-resumed');

    // The stored run says the same.
    await page.goto(`${base}/#/runs/${encodeURIComponent(runId)}`);
    await expect.poll(() => page.getByTestId('replay-position').textContent()).toBe(`event ${total} of ${total}`);
    expect(alice.errors).toEqual([]);
  });

  it('shows every event once when the server stops gracefully mid-run (ending the run) and comes back', async () => {
    const { page } = alice;
    const base = server?.url ?? '';
    const runId = await startSlowRun(page, base);
    const card = page.locator(`[data-testid="run-card"][data-run-id="${runId}"]`);
    await card.locator('[data-testid="tl-row"][data-kind="tool"][data-status="executing"]').waitFor();

    await server?.stop('SIGTERM');
    server = await spawnServer(env);
    // The shutdown ends the run (the grace period is short): its last events reach the page either
    // before the connection closes or, after the restart, by resuming.
    const ended = card.locator('[data-testid="tl-row"][data-kind="agent_completed"]');
    await ended.waitFor({ timeout: 30_000 });
    const status = (await ended.getAttribute('data-status')) ?? '';
    expect(['cancelled', 'interrupted']).toContain(status);
    await expectWholeRun(page, runId, status);
    // The page is usable against the new server (queries, a new run).
    await page.goto(`${base}/#/history`);
    await page.locator(`[data-testid="history-row"][data-run-id="${runId}"]`).waitFor();
    expect(alice.errors).toEqual([]);
  });
});
