import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { login, startTestServer } from '../../../server/test/helpers.ts';

export { freePort, spawnServer } from '../../../server/test/reliability/support/childServer.ts';
export { Terminal } from '../../../server/test/terminal.ts';
export { login, startTestServer };

/** A temporary XDG config folder for one test file, so the CLI never touches the real ~/.config. */
export function tempConfig(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'toolrun-cli-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
