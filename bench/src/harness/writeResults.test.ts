import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { figure } from './figure.ts';
import { markdownTable, summary, textTable } from './format.ts';
import type { RunResults } from './types.ts';
import { writeResults } from './writeResults.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sample(): RunResults {
  return {
    schemaVersion: 1,
    command: 'pnpm bench',
    mode: 'full',
    startedAt: '2026-11-30T00:00:00.000Z',
    finishedAt: '2026-11-30T00:03:00.000Z',
    commit: null,
    machine: {
      cpuModel: 'Test CPU',
      cpus: 2,
      memoryMB: 4096,
      node: 'v20.0.0',
      platform: 'linux x64',
      loadAverage: [1],
    },
    benchmarks: [
      {
        name: 'dispatch',
        title: 'dispatch',
        durationMs: 10,
        figures: [
          figure({
            id: 'dispatch.perCall',
            label: 'per call',
            value: 3,
            unit: 'µs',
            baseline: { label: 'plain', value: 0.1, unit: 'µs' },
            target: { op: '<=', threshold: 2, text: '≤ 2 µs' },
          }),
          figure({
            id: 'dispatch.flatness',
            label: 'flat | spread',
            value: 4,
            unit: '%',
            target: { op: '<=', threshold: 10, text: 'within 10%' },
          }),
        ],
      },
      { name: 'console', title: 'console', durationMs: 1, figures: [], error: 'Error: boom\n    at x' },
    ],
  };
}

describe('writeResults', () => {
  it('writes the results as stable JSON that reads back equal, and a Markdown table beside it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    dirs.push(dir);
    const results = sample();
    const paths = writeResults(dir, results, { name: 'latest' });
    expect(paths.json).toBe(join(dir, 'latest.json'));
    expect(JSON.parse(readFileSync(paths.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(results)));
    const again = writeResults(dir, sample(), { name: 'latest' });
    expect(readFileSync(again.json, 'utf8')).toBe(readFileSync(paths.json, 'utf8'));
    const md = readFileSync(paths.md, 'utf8');
    expect(md).toContain('Test CPU, 2 CPUs (nproc), 4,096 MB memory, Node v20.0.0');
    expect(md).toContain('targets: 1 met, 1 missed');
    expect(md).toContain('| dispatch | per call | 3 µs | 0.1 µs (plain) | 30× | ≤ 2 µs | MISSED |');
  });
});

describe('tables', () => {
  it('marks each target met or missed and shows a failed benchmark instead of dropping it', () => {
    const text = textTable(sample());
    expect(text).toMatch(/per call\s+3 µs\s+0\.1 µs \(plain\)\s+30×\s+≤ 2 µs\s+MISSED/);
    expect(text).toMatch(/flat \| spread\s+4%.*within 10%\s+met/);
    expect(text).toContain('(failed: Error: boom)');
  });

  it('escapes pipes in Markdown cells', () => {
    expect(markdownTable(sample())).toContain('flat \\| spread');
  });

  it('counts met and missed targets', () => {
    const s = summary(sample());
    expect(s.met).toBe(1);
    expect(s.missed.map((f) => f.id)).toEqual(['dispatch.perCall']);
    expect(s.unjudged).toBe(0);
  });
});
