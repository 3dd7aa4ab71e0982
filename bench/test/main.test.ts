import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: benchRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('pnpm bench', () => {
  it('exits 0 with the usage on a bad command line, naming the problem', () => {
    const unknownOption = bench('--fast');
    expect(unknownOption.status).toBe(0);
    expect(unknownOption.stderr).toContain("Unknown option '--fast'");
    expect(unknownOption.stderr).toContain('Usage: pnpm bench');
    const unknownBench = bench('--only', 'nope');
    expect(unknownBench.status).toBe(0);
    expect(unknownBench.stderr).toContain('unknown benchmark nope; choose from dispatch, agentRun');
  }, 60_000);
});
