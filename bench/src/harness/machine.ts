import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { MachineInfo } from './types.ts';

/** The CPU model as `/proc/cpuinfo` names it (falls back to `os.cpus()`). */
export function cpuModel(cpuinfo?: string): string {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      text = '';
    }
  }
  const match = /^model name\s*:\s*(.+)$/m.exec(text);
  return match?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

/** What the figures were measured on. */
export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cpus: availableParallelism(),
    memoryMB: Math.round(totalmem() / 1_048_576),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * The checked-out commit, read from `.git` without running git (the files only); `null` when it
 * cannot be read.
 */
export function readCommit(repoRoot: string): string | null {
  try {
    const head = readFileSync(join(repoRoot, '.git', 'HEAD'), 'utf8').trim();
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (ref === undefined) return /^[0-9a-f]{40}$/.test(head) ? head : null;
    try {
      return readFileSync(join(repoRoot, '.git', ref), 'utf8').trim();
    } catch {
      const packed = readFileSync(join(repoRoot, '.git', 'packed-refs'), 'utf8');
      const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
      return line?.split(' ')[0] ?? null;
    }
  } catch {
    return null;
  }
}
