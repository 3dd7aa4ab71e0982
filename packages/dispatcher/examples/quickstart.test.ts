import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('runs the README example as a reader would, in a child process, and it prints what the README says', async () => {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], {
    cwd,
    timeout: 30_000,
  });
  expect(stdout).toContain('run: completed {"sum":{"sum":42},"lookup":"success"}');
  expect(stdout).toMatch(/1 agent_started\n\s+2 agent_thinking\n\s+3 tool_executing\n\s+4 tool_completed add success/);
  expect(stdout).toMatch(/7 agent_completed/);
  expect(stdout).toContain('"input":{"account":"[REDACTED]","apiKey":"[REDACTED]"}');
  expect(stdout).not.toContain('sk-very-secret');
  expect(stdout).toContain('bob: error INVALID_INPUT');
  expect(stdout).toContain('isolation passed: true | live scopes: 0');
}, 40_000);
