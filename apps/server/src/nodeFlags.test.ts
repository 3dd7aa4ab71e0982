import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from './nodeFlags.ts';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('the server start flags', () => {
  it('are given by every way pnpm starts the server', () => {
    const pkg = JSON.parse(read('../package.json')) as { scripts: { start: string } };
    const startScript = read('../../../scripts/start.mjs');
    for (const flag of SERVER_NODE_FLAGS) {
      expect(pkg.scripts.start).toContain(`node ${flag} `);
      expect(startScript).toContain(`'${flag}'`);
    }
  });
});
