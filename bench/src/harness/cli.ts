import { parseArgs } from 'node:util';

/** The command line of `pnpm bench`. */
export interface CliOptions {
  quick: boolean;
  only: string[];
  profile: boolean;
  buildWeb: boolean;
  help: boolean;
}

export const USAGE = `Usage: pnpm bench [--quick] [--only <name>[,<name>…]] [--profile] [--no-build-web]

  --quick            seconds instead of minutes: fewer repetitions, smaller loads
  --only <names>     run only these benchmarks (comma-separated or repeated)
  --profile          after measuring, profile each benchmark once (CPU profiles of the hot loops and of
                     the server process, heap snapshots of parked runs) into results/profiles/ and put
                     the hottest functions in the results' details (figures stay unprofiled)
  --no-build-web     measure apps/web/dist as it is instead of building the console first
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
    help: values.help === true,
  };
}
