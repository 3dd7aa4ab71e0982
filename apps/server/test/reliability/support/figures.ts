import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../../../test-results/reliability/', import.meta.url));

/**
 * Records the figures of one test: printed as one JSON line (`[reliability] name {…}`) and written to
 * `apps/server/test-results/reliability/<name>.json`, where RELIABILITY.md's figures come from.
 */
export function reportFigures(name: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ at: new Date().toISOString(), ...figures });
  console.log(`[reliability] ${name} ${line}`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify(JSON.parse(line), null, 2)}\n`);
}
