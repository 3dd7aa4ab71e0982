import { parseArgs } from 'node:util';

/** The command line of `pnpm bench`. */
export interface CliOptions {
  quick: boolean;
  only: string[];
  profile: boolean;
  buildWeb: boolean;
  /** Transport benchmark: only these user counts (empty: all). */
  users: number[];
  help: boolean;
}

export const USAGE = `Usage: pnpm bench [--quick] [--only <name>[,<name>…]] [--profile] [--no-build-web] [--users <n>[,<n>…]]

  --quick            seconds instead of minutes: fewer repetitions, smaller loads
  --only <names>     run only these benchmarks (comma-separated or repeated)
  --profile          after measuring, profile each benchmark once (CPU profiles of the hot loops and of
                     the server process, heap snapshots of parked runs) into results/profiles/ and put
                     the hottest functions in the results' details (figures stay unprofiled)
  --no-build-web     measure apps/web/dist as it is instead of building the console first
  --users <counts>   transport benchmark: only these user counts (of 1, 100, 1000), e.g. --users 1000
A full run of every benchmark writes results/latest.{json,md}; any other run results/partial.{json,md}.
The process always exits 0: missed targets are reported, not fatal.`;

/** Parses `argv` (without node and the script). Throws on an unknown option. */
export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true, default: [] },
      profile: { type: 'boolean', default: false },
      'no-build-web': { type: 'boolean', default: false },
      users: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  return {
    quick: values.quick === true,
    only: values.only ?? [],
    profile: values.profile === true,
    buildWeb: values['no-build-web'] !== true,
    users: parseUsers(values.users ?? []),
    help: values.help === true,
  };
}

function parseUsers(values: readonly string[]): number[] {
  const counts = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  return counts.map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--users takes user counts, not '${v}'`);
    return n;
  });
}
