import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_BENCHMARKS } from './benchmarks/index.ts';
import { type BenchContext, runBenchmarks, selectBenchmarks } from './harness/benchmark.ts';
import { type CliOptions, parseCli, USAGE } from './harness/cli.ts';
import { summary, textTable } from './harness/format.ts';
import { machineInfo, readCommit } from './harness/machine.ts';
import type { RunResults } from './harness/types.ts';
import { writeResults } from './harness/writeResults.ts';

const BENCH_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = resolve(BENCH_ROOT, '..');

// Whatever happens, `pnpm bench` exits 0: a missed target or a failed benchmark is a result.
async function main(): Promise<void> {
  let cli: CliOptions;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return;
  }
  if (cli.help) {
    console.log(USAGE);
    return;
  }
  let selected: ReturnType<typeof selectBenchmarks>;
  try {
    selected = selectBenchmarks(ALL_BENCHMARKS, cli.only);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return;
  }
  const stop = new AbortController();
  const onSignal = () => {
    console.error('\ninterrupted: finishing the current step and cleaning up…');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const ctx: BenchContext = {
    quick: cli.quick,
    signal: stop.signal,
    repoRoot: REPO_ROOT,
    benchRoot: BENCH_ROOT,
    profile: cli.profile,
    buildWeb: cli.buildWeb,
    users: cli.users,
    log: (message) => process.stderr.write(`${message}\n`),
  };
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    ctx.log('note: run with --expose-gc (pnpm bench does) or the memory figures are not measured');
  }
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const benchmarks = await runBenchmarks(selected, ctx);
  const results: RunResults = {
    schemaVersion: 1,
    command: `pnpm bench${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    mode: cli.quick ? 'quick' : 'full',
    startedAt,
    finishedAt: new Date().toISOString(),
    commit: readCommit(REPO_ROOT),
    machine,
    benchmarks,
  };
  const full = !cli.quick && cli.only.length === 0 && cli.users.length === 0;
  const written = writeResults(join(BENCH_ROOT, 'results'), results, { name: full ? 'latest' : 'partial' });
  console.log(`\n${textTable(results)}\n`);
  const s = summary(results);
  console.log(
    `targets: ${s.met} met, ${s.missed.length} missed${s.unjudged > 0 ? `, ${s.unjudged} not measured` : ''}` +
      (s.missed.length > 0 ? ` (missed: ${s.missed.map((f) => f.id).join(', ')})` : ''),
  );
  console.log(`results: ${written.json}`);
}

main()
  .catch((error: unknown) => {
    console.error('the bench failed unexpectedly:', error);
  })
  .finally(() => {
    process.exitCode = 0;
    // Open handles of a failed benchmark must not keep the process alive.
    setTimeout(() => process.exit(0), 2_000).unref();
  });
