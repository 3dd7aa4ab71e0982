import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppRouter } from '@toolrun/api';
import { type RunningServer, startServer } from '@toolrun/server';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

// The real server (SQLite in a temp folder, ephemeral port) serving the built console, and Debian's
// headless Chromium: the Live page following every run of the user over one runs.feed stream (SSE),
// each card with its waterfall growing as the events arrive.

let server: RunningServer;
let browser: Browser;
let dataDir: string;
let alice: UserTab;
/** Subscription requests the page made, by procedure (`runs.feed`, `runs.events`). */
const streams: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'toolrun-web-feed-'));
  server = await startServer({ database: join(dataDir, 'toolrun.db'), dataDir, consoleDir: DIST, graceMs: 500 });
  browser = await launchBrowser();
  alice = await openAs(browser, server.url, 'alice');
  // From here on, count every stream the page opens: EventSources made by the page's script, and the
  // requests that reach the subscription procedures.
  await alice.context.addInitScript(() => {
    const Native = window.EventSource;
    const opened: string[] = [];
    Object.defineProperty(window, '__eventSources', { value: opened });
    window.EventSource = class extends Native {
      constructor(url: string | URL, init?: EventSourceInit) {
        super(url, init);
        opened.push(String(url));
      }
    };
  });
  alice.page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path === '/trpc/runs.feed' || path === '/trpc/runs.events') streams.push(path);
  });
  await alice.page.goto(`${server.url}/#/live`);
  await alice.page.reload();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

const card = (page: Page, runId: string) => page.locator(`[data-testid="run-card"][data-run-id="${runId}"]`);

const startFromPage = (page: Page, agent: string, input: string) => startRunFromPage(page, server.url, agent, input);

/** Another client of alice's (a script, the CLI), with a token of its own. */
async function aliceElsewhere() {
  const login = await fetch(`${server.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 'alice' }),
  });
  const { token } = ((await login.json()) as { result: { data: { token: string } } }).result.data;
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${server.url}/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
}

interface Bar {
  callId: string;
  tool: string;
  start: number;
  end: number | undefined;
  status: string;
}

const overlapping = (bars: Bar[], axisEnd: number) =>
  bars.some((a) => bars.some((b) => a !== b && a.start < (b.end ?? axisEnd) && b.start < (a.end ?? axisEnd)));

describe('the Live page over one runs.feed stream', () => {
  it('shows 10 concurrent runs of alice (from the page and from another client) completing, over exactly one event stream', async () => {
    const { page } = alice;
    await page.getByTestId('start-form').waitFor();
    const input = '{ "steps": 8, "delayMs": 300 }';
    const fromPage = [await startFromPage(page, 'slow', input), await startFromPage(page, 'slow', input)];
    // Eight more from another client of alice's (a script, the CLI): the page follows all her runs.
    const other = await aliceElsewhere();
    const elsewhere = await Promise.all(
      Array.from({ length: 8 }, () => other.runs.start.mutate({ agent: 'slow', input: { steps: 8, delayMs: 300 } })),
    );
    const runIds = [...fromPage, ...elsewhere.map((r) => r.runId)];

    for (const runId of runIds) {
      await card(page, runId).and(page.locator('[data-status="completed"]')).waitFor({ timeout: 45_000 });
      const { seqs, rows } = await readTimeline(page, runId);
      expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(rows.at(-1)).toEqual({ kind: 'agent_completed', status: 'completed' });
    }
    expect(await page.getByTestId('run-card').count()).toBe(10);
    await screenshot(page, 'live-feed-10-runs');

    // One stream for all of it (the approvals badge listens to the same one).
    expect(streams).toEqual(['/trpc/runs.feed']);
    const eventSources = await page.evaluate(() => (window as unknown as { __eventSources: string[] }).__eventSources);
    expect(eventSources).toHaveLength(1);
    expect(new URL(eventSources[0] ?? '', server.url).pathname).toBe('/trpc/runs.feed');
    expect(alice.errors).toEqual([]);
  });

  it('draws the waterfall of a live `parallel` run as its events arrive: overlapping bars before and after it completes, the events one click away', async () => {
    const { page } = alice;
    const runId = await startFromPage(page, 'parallel', '{ "slowSteps": 10 }');
    const c = card(page, runId);
    // Read in the page at every DOM change (a MutationObserver), so the moment between the quick calls' end and the slow
    // task's end is seen however briefly it lasts: the run still going, its slow task still open.
    const before = await page.evaluate(
      (id) =>
        new Promise<Bar[]>((resolve, reject) => {
          const read = (): Bar[] | undefined => {
            const el = document.querySelector(`[data-testid="run-card"][data-run-id="${id}"]`);
            if (!(el instanceof HTMLElement) || el.dataset.status !== 'running') return undefined;
            const bars = [...el.querySelectorAll<HTMLElement>('[data-testid="waterfall-bar"]')].map((b) => ({
              callId: b.dataset.callId ?? '',
              tool: b.querySelector('.waterfall-label')?.textContent ?? '',
              start: Number(b.dataset.startMs),
              end: b.dataset.endMs === '' ? undefined : Number(b.dataset.endMs),
              status: b.dataset.status ?? '',
            }));
            const open = bars.filter((b) => b.end === undefined);
            return open.length > 0 && open.length < bars.length ? bars : undefined;
          };
          const observer = new MutationObserver(() => {
            const bars = read();
            if (bars !== undefined) done(bars);
          });
          const timer = setTimeout(() => {
            observer.disconnect();
            reject(new Error('the running card never showed an open bar beside ended ones'));
          }, 30_000);
          const done = (bars: Bar[]) => {
            observer.disconnect();
            clearTimeout(timer);
            resolve(bars);
          };
          observer.observe(document.body, { subtree: true, childList: true, attributes: true });
          const now = read();
          if (now !== undefined) done(now);
        }),
      runId,
    );
    const openBar = before.find((b) => b.end === undefined);
    expect(openBar?.tool).toBe('slow_task');
    expect(openBar?.status).toBe('executing');
    // The open bar runs to the axis' end, across the calls that started and ended meanwhile.
    expect(overlapping(before, Number.POSITIVE_INFINITY)).toBe(true);

    await c.and(page.locator('[data-status="completed"]')).waitFor({ timeout: 30_000 });
    const after = await c.getByTestId('waterfall-bar').evaluateAll((nodes) =>
      nodes.map((n) => {
        const d = (n as HTMLElement).dataset;
        return {
          callId: d.callId ?? '',
          tool: '',
          start: Number(d.startMs),
          end: d.endMs === '' ? undefined : Number(d.endMs),
          status: d.status ?? '',
        };
      }),
    );
    expect(after.length).toBeGreaterThan(before.length - 1);
    expect(after.every((b) => b.end !== undefined && b.status !== 'executing')).toBe(true);
    expect(overlapping(after, 0)).toBe(true);
    // The bars that were there before are the same calls, now ended.
    expect(before.every((b) => after.some((a) => a.callId === b.callId && a.start === b.start))).toBe(true);

    // A click shows a call's input and output; the run's event table is one click away.
    await c.getByTestId('waterfall-bar').first().click();
    expect(await c.getByTestId('waterfall-detail').textContent()).toContain('input');
    await screenshot(page, 'live-waterfall');
    await c.getByTestId('events-link').click();
    await page.getByTestId('replay-row').first().waitFor();
    expect(await page.getByTestId('replay-row').count()).toBeGreaterThan(4);
    expect(alice.errors).toEqual([]);
  });

  it('draws at most 12 cards, newest first, and lists the older runs below as "and N more"', async () => {
    const { page } = alice;
    const other = await aliceElsewhere();
    // Eleven runs so far; two more make thirteen.
    const newest: string[] = [];
    for (let i = 0; i < 2; i++) {
      newest.unshift((await other.runs.start.mutate({ agent: 'calculator', input: {} })).runId);
    }
    await page.goto(`${server.url}/#/live`);
    for (const runId of newest) await card(page, runId).and(page.locator('[data-status="completed"]')).waitFor();
    expect(await page.getByTestId('run-card').count()).toBe(12);
    const cards = await page
      .getByTestId('run-card')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id')));
    expect(cards.slice(0, 2)).toEqual(newest);
    const more = page.getByTestId('more-runs');
    expect(await more.getByRole('heading').textContent()).toBe('and 1 more');
    expect(await more.getByTestId('more-run').count()).toBe(1);
    // Still the one stream.
    expect(streams).toEqual(['/trpc/runs.feed']);
  });
});
