import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** `apps/web`. */
export const WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built console the server serves. */
export const DIST = join(WEB_ROOT, 'dist');
/** Where the suite saves a screenshot of each page. */
export const SCREENSHOTS = join(WEB_ROOT, 'test-results', 'screenshots');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Builds the console once if `dist/` is missing (turbo runs `build` before `test`; this covers a
 * bare `npx vitest run`).
 */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(join(DIST, 'index.html'))) return;
  const { build } = await import('vite');
  await build({ root: WEB_ROOT, logLevel: 'warn' });
}

/** Debian's Chromium, headless: one per test file. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A signed-in tab. */
export interface UserTab {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and Content-Security-Policy violations seen in this tab. */
  errors: string[];
}

/**
 * A fresh browser context (its own storage, like another browser) signed in as `userId` through the
 * identity page's buttons or its name field.
 */
export async function openAs(
  browser: Browser,
  baseUrl: string,
  userId: string,
  opts: { admin?: boolean } = {},
): Promise<UserTab> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  // The server's CSP allows only the console's own scripts, styles and connections: a violation
  // means the console lost a script, a style or a stream, so every test that checks errors checks it.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
      errors.push(`csp: ${message.text()}`);
  });
  await page.goto(`${baseUrl}/#/identity`);
  const demo = page.getByRole('button', { name: opts.admin === true ? `${userId} (admin)` : userId, exact: true });
  if ((await demo.count()) > 0) {
    await demo.click();
  } else {
    await page.getByLabel('Other user id').fill(userId);
    if (opts.admin === true) await page.getByLabel('admin role').check();
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  const whoami = page.getByTestId('whoami').getByTitle('signed in as');
  await whoami.waitFor();
  const shown = await whoami.textContent();
  if (shown !== userId) throw new Error(`signed in as ${shown}, expected ${userId}`);
  return { context, page, errors };
}

/** Saves a full-page screenshot as `test-results/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/**
 * Every seq the run card shows, in row order (a tool row carries both of its events' seqs), and
 * each row's kind and status: what the user sees, read from the DOM.
 */
export async function readTimeline(
  page: Page,
  runId: string,
): Promise<{ seqs: number[]; rows: { kind: string; status: string | null }[] }> {
  const card = page.locator(`[data-testid="run-card"][data-run-id="${runId}"]`);
  return card.locator('[data-testid="tl-row"]').evaluateAll((nodes) => {
    const seqs: number[] = [];
    const rows: { kind: string; status: string | null }[] = [];
    for (const node of nodes) {
      const el = node as HTMLElement;
      for (const s of (el.dataset.seqs ?? '').split(' ')) if (s !== '') seqs.push(Number(s));
      rows.push({ kind: el.dataset.kind ?? '', status: el.dataset.status ?? null });
    }
    return { seqs, rows };
  });
}

/**
 * Starts `agent` from the Live page's form (with `input`, JSON text, instead of the prefilled one)
 * and returns the new run's id, read from the card that appears first (the newest).
 */
export async function startRunFromPage(page: Page, baseUrl: string, agent: string, input?: string): Promise<string> {
  await page.goto(`${baseUrl}/#/live`);
  const form = page.getByTestId('start-form');
  await form.getByLabel('Agent').selectOption(agent);
  if (input !== undefined) await form.getByLabel('Input (JSON)').fill(input);
  const before = await page
    .getByTestId('run-card')
    .evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.runId));
  await form.getByRole('button', { name: 'Start run' }).click();
  const first = page.getByTestId('run-card').first();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const runId = await first.getAttribute('data-run-id');
    if (runId !== null && !before.includes(runId)) return runId;
    if (Date.now() > deadline) throw new Error(`no new run card appeared for ${agent}`);
    await page.waitForTimeout(50);
  }
}
