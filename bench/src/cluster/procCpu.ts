import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of `/proc/<pid>/stat` the bench reads (CPU times in clock ticks). */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** Time in user and kernel mode, every thread of the process. */
  utime: number;
  stime: number;
  /** User and kernel time of its children that exited and were waited for. */
  cutime: number;
  cstime: number;
}

/**
 * Parses one `/proc/<pid>/stat` line (proc(5)). The command name is in parentheses and may itself
 * hold spaces and parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close < open) throw new Error(`not a /proc stat line: ${text.slice(0, 80)}`);
  // After `)`: state(3) ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime cutime cstime.
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number) => {
    const value = Number(rest[n - 3]);
    if (!Number.isFinite(value)) throw new Error(`/proc stat field ${n} is not a number: ${text.slice(0, 80)}`);
    return value;
  };
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
  };
}

/** Busy and total CPU time of the whole machine from `/proc/stat`'s first line, in clock ticks. */
export function parseMachineStat(text: string): { busy: number; total: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('no cpu line in /proc/stat');
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map((v) => Number(v) || 0);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on when it cannot be read). */
export function clockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/** `/proc/<pid>/stat` parsed, or `undefined` when the process is gone. */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every process on the machine now, with its command line (NUL-separated arguments joined by spaces). */
export function listProcesses(): { stat: ProcStat; cmdline: string }[] {
  const out: { stat: ProcStat; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat === undefined) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      continue;
    }
    out.push({ stat, cmdline });
  }
  return out;
}

/**
 * A group of processes whose CPU time is summed: `roots` and (with `withChildren`) their direct
 * children at each reading, e.g. PostgreSQL's postmaster and the backend it forks per connection.
 * Children that exited in between are counted through the root's `cutime`/`cstime`.
 */
export interface ProcessGroup {
  roots: readonly number[];
  withChildren: boolean;
}

/** CPU ticks of each process of a group at one moment (key `-pid` holds a root's reaped children). */
export type GroupReading = ReadonlyMap<number, number>;

/** Reads a group now, from the given process list (one `/proc` scan serves every group). */
export function readGroup(group: ProcessGroup, processes: readonly { stat: ProcStat }[]): GroupReading {
  const reading = new Map<number, number>();
  const roots = new Set(group.roots);
  for (const { stat } of processes) {
    if (roots.has(stat.pid)) {
      reading.set(stat.pid, stat.utime + stat.stime);
      if (group.withChildren) reading.set(-stat.pid, stat.cutime + stat.cstime);
    } else if (group.withChildren && roots.has(stat.ppid)) {
      reading.set(stat.pid, stat.utime + stat.stime);
    }
  }
  return reading;
}

/**
 * CPU seconds a group used between two readings: each process's growth (a process new since `before`
 * counts whole: it started in the window), plus what children that exited handed to their root (their
 * whole life, so what `before` had already counted of them is taken off).
 */
export function groupSecondsBetween(before: GroupReading, after: GroupReading, ticksPerSecond: number): number {
  let ticks = 0;
  for (const [pid, value] of after) ticks += Math.max(0, value - (before.get(pid) ?? 0));
  // Only a group that reaps (it has a root's `-pid` entry) hands its exited children's time to the root.
  const reaps = [...before.keys()].some((k) => k < 0);
  for (const [pid, value] of before) {
    const exitedChild = pid > 0 && !after.has(pid) && !before.has(-pid);
    if (reaps && exitedChild) ticks -= value;
  }
  return Math.max(0, ticks) / ticksPerSecond;
}

/** The pid of the first process whose command line `matches`, or `undefined`. */
export function findProcess(
  processes: readonly { stat: ProcStat; cmdline: string }[],
  matches: (cmdline: string) => boolean,
): number | undefined {
  return processes.find((p) => matches(p.cmdline))?.stat.pid;
}
