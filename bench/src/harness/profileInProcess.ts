import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join, relative } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { heapGrowth, readHeapSnapshot, summarizeHeap } from '../profile/summarizeHeap.ts';
import { type CpuProfile, type ProfileSummary, summarizeProfile } from '../profile/summarizeProfile.ts';
import type { BenchContext } from './benchmark.ts';

/** Where `--profile` writes profiles and snapshots. */
export function profileDir(ctx: BenchContext): string {
  const dir = join(ctx.benchRoot, 'results', 'profiles');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * CPU-profiles `work` in this process (sampling every 100 µs) and returns the hottest functions;
 * the `.cpuprofile` goes to `results/profiles/<name>.cpuprofile` (open it in Chrome DevTools).
 */
export async function profileInProcess(
  ctx: BenchContext,
  name: string,
  work: () => Promise<void>,
): Promise<ProfileSummary & { file: string }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    await work();
    const { profile } = await session.post('Profiler.stop');
    const file = join(profileDir(ctx), `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    // Relative to the repository, so that the committed results name no machine's folders.
    return { file: relative(ctx.repoRoot, file), ...summarizeProfile(profile as unknown as CpuProfile, { top: 15 }) };
  } finally {
    session.disconnect();
  }
}

/**
 * What `units` live things (e.g. parked runs) hold, by constructor: heap snapshots before and
 * after `grow()` (which must leave them alive), compared. Snapshots go to `results/profiles/`.
 */
export async function heapBreakdown(
  ctx: BenchContext,
  name: string,
  units: number,
  grow: () => Promise<void>,
): Promise<{ name: string; countPerUnit: number; bytesPerUnit: number }[]> {
  const dir = profileDir(ctx);
  const before = summarizeHeap(readHeapSnapshot(writeHeapSnapshot(join(dir, `${name}-before.heapsnapshot`))));
  await grow();
  const after = summarizeHeap(readHeapSnapshot(writeHeapSnapshot(join(dir, `${name}-after.heapsnapshot`))));
  return heapGrowth(before, after, units)
    .slice(0, 20)
    .map((g) => ({
      ...g,
      countPerUnit: Math.round(g.countPerUnit * 100) / 100,
      bytesPerUnit: Math.round(g.bytesPerUnit),
    }));
}
