import { describe, expect, it } from 'vitest';
import { type BenchContext, type Benchmark, runBenchmarks, selectBenchmarks } from './benchmark.ts';
import { parseCli } from './cli.ts';
import { figure } from './figure.ts';
import { cpuModel } from './machine.ts';

const bench = (name: string, run: Benchmark['run']): Benchmark => ({ name, title: name, run });
const ctx: BenchContext = {
  quick: true,
  signal: new AbortController().signal,
  repoRoot: '/repo',
  benchRoot: '/repo/bench',
  profile: false,
  buildWeb: false,
  log: () => {},
};

describe('runBenchmarks', () => {
  it('records a failing benchmark with its error and still runs the next one', async () => {
    const results = await runBenchmarks(
      [
        bench('broken', async () => {
          throw new Error('no server');
        }),
        bench('fine', async () => ({ figures: [figure({ id: 'fine.x', label: 'x', value: 1, unit: 'µs' })] })),
      ],
      ctx,
    );
    expect(results.map((r) => r.name)).toEqual(['broken', 'fine']);
    expect(results[0]?.error).toContain('no server');
    expect(results[0]?.figures).toEqual([]);
    expect(results[1]?.figures[0]?.value).toBe(1);
  });
});

describe('selectBenchmarks', () => {
  const all = [bench('a', async () => ({ figures: [] })), bench('b', async () => ({ figures: [] }))];

  it('keeps every benchmark without --only, and the named ones (comma-separated or repeated) in run order', () => {
    expect(selectBenchmarks(all, []).map((b) => b.name)).toEqual(['a', 'b']);
    expect(selectBenchmarks(all, ['b,a']).map((b) => b.name)).toEqual(['a', 'b']);
    expect(selectBenchmarks(all, ['b']).map((b) => b.name)).toEqual(['b']);
  });

  it('refuses an unknown name and lists the known ones', () => {
    expect(() => selectBenchmarks(all, ['c'])).toThrow('unknown benchmark c; choose from a, b');
  });
});

describe('parseCli', () => {
  it('defaults to a full run that builds the console', () => {
    expect(parseCli([])).toEqual({ quick: false, only: [], profile: false, buildWeb: true, users: [], help: false });
  });

  it('reads --quick, repeated --only, --profile and --no-build-web', () => {
    const cli = parseCli(['--quick', '--only', 'dispatch', '--only', 'scope', '--profile', '--no-build-web']);
    expect(cli).toEqual({
      quick: true,
      only: ['dispatch', 'scope'],
      profile: true,
      buildWeb: false,
      users: [],
      help: false,
    });
  });

  it('reads --users as user counts for the transport benchmark, and refuses anything else', () => {
    expect(parseCli(['--users', '1000']).users).toEqual([1000]);
    expect(parseCli(['--users', '1,100']).users).toEqual([1, 100]);
    expect(() => parseCli(['--users', 'many'])).toThrow("--users takes user counts, not 'many'");
  });

  it('refuses an unknown option', () => {
    expect(() => parseCli(['--fast'])).toThrow();
  });
});

describe('cpuModel', () => {
  it('reads the model name from /proc/cpuinfo text', () => {
    expect(cpuModel('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n')).toBe(
      'AMD EPYC 7B13',
    );
  });
});
