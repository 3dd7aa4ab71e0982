import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownReport } from './format.ts';
import { stableStringify } from './stableStringify.ts';
import type { RunResults } from './types.ts';

/**
 * Writes `<name>.json` (stable key order) and `<name>.md` (the Markdown table) into `dir`.
 * A full run of every benchmark is `latest`; a quick or partial run is `partial`, so that trying
 * one benchmark never overwrites the committed figures.
 *
 * @returns the paths written.
 */
export function writeResults(dir: string, results: RunResults, opts: { name: string }): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${opts.name}.json`);
  const md = join(dir, `${opts.name}.md`);
  writeFileSync(json, stableStringify(results));
  writeFileSync(md, markdownReport(results));
  return { json, md };
}
