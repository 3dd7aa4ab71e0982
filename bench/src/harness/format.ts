import type { Figure, RunResults, Unit } from './types.ts';

/** A value with its unit, readable: `1.23 µs`, `38,400 events/s`, `1.9 KB`, `0.98×`. */
export function formatValue(value: number | null | undefined, unit: Unit): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const n = Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(value);
  switch (unit) {
    case 'ratio':
      return `${n}×`;
    case '%':
      return `${n}%`;
    case 'count':
      return n;
    case 'ns':
    case 'µs':
    case 'ms':
    case 'B':
    case 'KB':
    case 'MB':
    case 'events/s':
    case 'rows/s':
    case 'runs/s':
      return `${n} ${unit}`;
    default: {
      const never: never = unit;
      return `${n} ${String(never)}`;
    }
  }
}

/** `met`, `MISSED`, `–` (no target) or `n/a` (a target but no value). */
export function status(f: Figure): string {
  if (f.target === undefined) return '–';
  if (f.met === null) return 'n/a';
  return f.met ? 'met' : 'MISSED';
}

/** One row per figure: the columns of the printed table and of BENCHMARKS.md. */
export function rows(results: Pick<RunResults, 'benchmarks'>): string[][] {
  const out: string[][] = [];
  for (const bench of results.benchmarks) {
    if (bench.error !== undefined && bench.figures.length === 0) {
      out.push([bench.name, `(failed: ${bench.error.split('\n')[0] ?? ''})`, '–', '–', '–', '–', 'n/a']);
    }
    for (const f of bench.figures) {
      out.push([
        bench.name,
        f.label,
        formatValue(f.value, f.unit),
        f.baseline === undefined ? '–' : `${formatValue(f.baseline.value, f.baseline.unit)} (${f.baseline.label})`,
        f.ratio === undefined || f.ratio === null ? '–' : formatValue(f.ratio, 'ratio'),
        f.target?.text ?? '–',
        status(f),
      ]);
    }
  }
  return out;
}

const HEADER = ['bench', 'figure', 'value', 'baseline (same run)', 'ratio', 'target', 'status'];

/** A fixed-width text table for the terminal. */
export function textTable(results: Pick<RunResults, 'benchmarks'>): string {
  const body = rows(results);
  const all = [HEADER, ...body];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** A Markdown table (pipes in cells escaped). */
export function markdownTable(results: Pick<RunResults, 'benchmarks'>): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const line = (r: string[]) => `| ${r.map(esc).join(' | ')} |`;
  return [line(HEADER), `|${HEADER.map(() => '---').join('|')}|`, ...rows(results).map(line)].join('\n');
}

/** Counts of targets met and missed, and the figures that missed. */
export function summary(results: Pick<RunResults, 'benchmarks'>): { met: number; missed: Figure[]; unjudged: number } {
  let met = 0;
  let unjudged = 0;
  const missed: Figure[] = [];
  for (const bench of results.benchmarks) {
    for (const f of bench.figures) {
      if (f.target === undefined) continue;
      if (f.met === true) met += 1;
      else if (f.met === false) missed.push(f);
      else unjudged += 1;
    }
  }
  return { met, missed, unjudged };
}

/** The Markdown summary written next to the JSON: machine, command, date and the table. */
export function markdownReport(results: RunResults): string {
  const m = results.machine;
  const s = summary(results);
  return [
    `- date: ${results.startedAt} (${results.mode} mode)`,
    `- command: \`${results.command}\``,
    `- machine: ${m.cpuModel}, ${m.cpus} CPUs (nproc), ${m.memoryMB.toLocaleString('en-US')} MB memory, Node ${m.node}, ${m.platform}; load average at start ${m.loadAverage.join(' / ')}`,
    results.commit === null ? '- commit: unknown' : `- commit: ${results.commit}`,
    `- targets: ${s.met} met, ${s.missed.length} missed${s.unjudged > 0 ? `, ${s.unjudged} not measured` : ''}`,
    '',
    markdownTable(results),
    '',
  ].join('\n');
}
