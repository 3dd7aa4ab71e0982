import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (as `node --cpu-prof` writes it) that a summary needs. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
    hitCount?: number;
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** One function's share of a profile. */
export interface HotFunction {
  /** `name (file:line)`, the file shortened to its package-relative path. */
  readonly name: string;
  /** Where it lives: a Toolrun workspace, an npm package, `node` internals or `(vm)` (GC, idle, program). */
  readonly origin: string;
  /** Time with this function on top of the stack, in ms. */
  readonly selfMs: number;
  /** Share of all sampled time, in percent. */
  readonly selfPercent: number;
  /** Time with this function anywhere on the stack (recursion counted once), in ms. */
  readonly totalMs: number;
  readonly totalPercent: number;
}

/** A profile summed by function and by origin. */
export interface ProfileSummary {
  readonly sampledMs: number;
  readonly idlePercent: number;
  readonly top: HotFunction[];
  /** Self time per origin, in percent of the non-idle time. */
  readonly byOrigin: { origin: string; percent: number }[];
}

/** Where a script URL comes from. */
export function originOf(url: string): string {
  if (url === '') return '(vm)';
  if (url.startsWith('node:')) return 'node';
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1] !== undefined) return pkg[1];
  const ws = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (ws?.[2] !== undefined) return `@toolrun/${ws[2]}`;
  if (url.includes('/bench/')) return '@toolrun/bench';
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(.+)$/.exec(url);
  if (pkg?.[1] !== undefined) return pkg[1];
  const ws = /\/((?:packages|apps)\/.+|bench\/.+)$/.exec(url);
  return ws?.[1] ?? url.replace(/^file:\/\//, '');
}

/**
 * Sums a CPU profile by function: self time (on top of the stack) and total time (anywhere on the
 * stack), the hottest `top` by self time, and self time by origin (package or Node internals).
 */
export function summarizeProfile(profile: CpuProfile, opts: { top?: number } = {}): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // As DevTools does: a sample lasts until the next one; the last one until the profile's end.
  let lastAt = profile.startTime;
  for (const delta of deltas) lastAt += delta;
  for (let i = 0; i < samples.length; i += 1) {
    const id = samples[i] as number;
    const dt = Math.max(0, i + 1 < samples.length ? (deltas[i + 1] ?? 0) : profile.endTime - lastAt);
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const keyOf = (id: number): string => {
    const f = byId.get(id)?.callFrame;
    if (f === undefined) return '(unknown)';
    const name = f.functionName === '' ? '(anonymous)' : f.functionName;
    const where = shortUrl(f.url);
    // Line 0 is what code transformed at load time (tsx) reports: the file alone says more.
    if (where === '') return name;
    return f.lineNumber > 0 ? `${name} (${where}:${f.lineNumber + 1})` : `${name} (${where})`;
  };
  const self = new Map<string, { us: number; origin: string }>();
  const total = new Map<string, number>();
  let sampled = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    sampled += us;
    const key = keyOf(id);
    const node = byId.get(id);
    if (node?.callFrame.functionName === '(idle)') idle += us;
    const entry = self.get(key) ?? { us: 0, origin: originOf(node?.callFrame.url ?? '') };
    entry.us += us;
    self.set(key, entry);
    // Walk up the stack once per distinct function.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = keyOf(at);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const busy = Math.max(1, sampled - idle);
  const top = [...self]
    .filter(([key]) => !key.startsWith('(idle)') && !key.startsWith('(root)'))
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, opts.top ?? 20)
    .map(([name, { us, origin }]) => ({
      name,
      origin,
      selfMs: round(us / 1000),
      selfPercent: round((us / busy) * 100),
      totalMs: round((total.get(name) ?? 0) / 1000),
      totalPercent: round(((total.get(name) ?? 0) / busy) * 100),
    }));
  const origins = new Map<string, number>();
  for (const [key, { us, origin }] of self) {
    if (key.startsWith('(idle)')) continue;
    origins.set(origin, (origins.get(origin) ?? 0) + us);
  }
  const byOrigin = [...origins]
    .sort((a, b) => b[1] - a[1])
    .map(([origin, us]) => ({ origin, percent: round((us / busy) * 100) }));
  return { sampledMs: round(sampled / 1000), idlePercent: round((idle / Math.max(1, sampled)) * 100), top, byOrigin };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The summary as text lines. */
export function formatSummary(summary: ProfileSummary): string {
  const lines = [
    `sampled ${summary.sampledMs} ms, idle ${summary.idlePercent}%`,
    'self% total%  function',
    ...summary.top.map(
      (f) =>
        `${f.selfPercent.toFixed(1).padStart(5)} ${f.totalPercent.toFixed(1).padStart(6)}  ${f.name}  [${f.origin}]`,
    ),
    `by origin (self, non-idle): ${summary.byOrigin
      .slice(0, 10)
      .map((o) => `${o.origin} ${o.percent}%`)
      .join(', ')}`,
  ];
  return lines.join('\n');
}

// `node --import tsx src/profile/summarizeProfile.ts <file.cpuprofile> [top]`
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: summarizeProfile <file.cpuprofile> [top]');
  } else {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    console.log(formatSummary(summarizeProfile(profile, { top: Number(process.argv[3] ?? 25) })));
  }
}
