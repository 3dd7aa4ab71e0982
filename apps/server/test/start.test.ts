import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, within } from './helpers.ts';
import { freePort } from './reliability/support/childServer.ts';
import { Terminal } from './terminal.ts';

// `pnpm start` is `node scripts/start.mjs`; the test runs that script directly so that it can be
// signalled (pnpm does not pass SIGTERM on).
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const START = join(REPO_ROOT, 'scripts', 'start.mjs');

let scratch: ReturnType<typeof tempDir>;
beforeAll(() => {
  scratch = tempDir();
});
afterAll(() => {
  scratch?.remove();
});

describe('pnpm start', () => {
  it('without a terminal: JSON log lines only (no build output, no telemetry notice), /healthz answers, SIGTERM exits 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [START], {
      cwd: REPO_ROOT,
      // A fresh config folder: turbo has never asked about telemetry here, as on a new machine.
      env: {
        ...process.env,
        PORT: String(port),
        TOOLRUN_DATA_DIR: join(scratch.dir, 'json'),
        XDG_CONFIG_HOME: join(scratch.dir, 'xdg'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await within(
        (async () => {
          while (!stdout.includes('Toolrun listening')) await new Promise((resolve) => setTimeout(resolve, 100));
        })(),
        120_000,
        'pnpm start',
      );
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await within(exited, 30_000, 'the shutdown')).toBe(0);
      const lines = stdout.split('\n').filter((line) => line !== '');
      for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
      expect(stdout).not.toMatch(/telemetry|turbo/i);
      const listening = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((l) => l.msg === `Toolrun listening on http://127.0.0.1:${port}`);
      expect(listening?.signIn).toMatch(/pnpm toolrun login <userId>/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 180_000);

  it('in a terminal: first the console address and how to sign in, then readable log lines, not JSON', async () => {
    const port = await freePort();
    const terminal = new Terminal(
      `cd ${REPO_ROOT} && env -u CI PORT=${port} TOOLRUN_DATA_DIR=${join(scratch.dir, 'tty')} ${process.execPath} ${START}; sleep 30`,
    );
    try {
      const screen = await terminal.waitFor(/INFO.*Toolrun listening/);
      const lines = screen.split('\n').filter((line) => line.trim() !== '');
      expect(lines[0]).toMatch(
        new RegExp(
          `^Toolrun console: http://127\\.0\\.0\\.1:${port} +\\(sign in with any user id in the console, or in a terminal: pnpm toolrun login <userId>`,
        ),
      );
      expect(screen).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Toolrun listening on /m);
      expect(screen).not.toContain('{"level"');
      expect(screen).not.toMatch(/telemetry|turbo/i);
    } finally {
      terminal.close();
    }
  }, 180_000);
});
