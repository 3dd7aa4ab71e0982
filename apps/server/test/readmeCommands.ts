import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * How the docs test treats the commands of one fenced shell block, from the HTML comment on the line
 * just before it (no comment: `run`):
 *
 * - `<!-- docs-test: run -->`: each line runs to its end and must exit 0.
 * - `<!-- docs-test: with-server -->`: the same, with a Toolrun server started by the test
 *   (`TOOLRUN_URL` points at it; the lines run in order, so a `login` line signs the next ones in).
 * - `<!-- docs-test: service <path> -->`: a long-running command: started, then the first
 *   `http://127.0.0.1:<port>` it prints (or `$PORT`, which the test sets) must answer `<path>`
 *   (below 500), then its whole process group gets SIGTERM.
 * - `<!-- docs-test: skip <reason> -->`: not run; the reason (what CI lacks) is required.
 *
 * Add `cwd=<folder from the repository root>` to run somewhere else than the README's folder.
 */
export type CommandKind =
  | { kind: 'run' }
  | { kind: 'with-server' }
  | { kind: 'service'; path: string }
  | { kind: 'skip'; reason: string };

/** One command line of a README's fenced shell block. */
export interface ReadmeCommand {
  /** The README, from the repository root. */
  readme: string;
  /** 1-based line in the README. */
  line: number;
  /** The command as a reader pastes it (its trailing `# comment` removed). */
  command: string;
  /** Absolute folder it runs in. */
  cwd: string;
  how: CommandKind;
}

const FENCE = /^```(sh|bash|shell|console)\s*$/;
const MARKER = /^<!--\s*docs-test:\s*(.*?)\s*-->\s*$/;

/** The README files of the repository: the root's and each workspace's (not node_modules). */
export function findReadmes(root: string): string[] {
  const found = [join(root, 'README.md')];
  for (const group of ['apps', 'packages', 'tooling']) {
    let names: string[] = [];
    try {
      names = readdirSync(join(root, group));
    } catch {
      continue;
    }
    for (const name of names.sort()) found.push(join(root, group, name, 'README.md'));
  }
  found.push(join(root, 'bench', 'README.md'));
  return found.filter((file) => {
    try {
      return readFileSync(file, 'utf8').length >= 0;
    } catch {
      return false;
    }
  });
}

function parseMarker(text: string, where: string): { how: CommandKind; cwd: string | undefined } {
  const cwdMatch = /\bcwd=(\S+)/.exec(text);
  const rest = text.replace(/\s*\bcwd=\S+/, '').trim();
  const [word = '', ...tail] = rest.split(/\s+/);
  const argument = tail.join(' ').trim();
  let how: CommandKind;
  if (word === 'run' && argument === '') how = { kind: 'run' };
  else if (word === 'with-server' && argument === '') how = { kind: 'with-server' };
  else if (word === 'service' && argument.startsWith('/')) how = { kind: 'service', path: argument };
  else if (word === 'skip' && argument.length >= 10) how = { kind: 'skip', reason: argument };
  else {
    throw new Error(
      `${where}: unknown docs-test marker "${text}" (run | with-server | service <path> | skip <reason of 10+ characters>)`,
    );
  }
  return { how, cwd: cwdMatch?.[1] };
}

/** Every command of every fenced shell block of `file`, with how the docs test treats it. */
export function readmeCommands(root: string, file: string): ReadmeCommand[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const readme = relative(root, file);
  const commands: ReadmeCommand[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (!FENCE.test(lines[i] ?? '')) continue;
    const previous = lines[i - 1] ?? '';
    const marker = MARKER.exec(previous);
    const { how, cwd } =
      marker?.[1] === undefined
        ? { how: { kind: 'run' } as const, cwd: undefined }
        : parseMarker(marker[1], `${readme}:${i}`);
    for (let j = i + 1; j < lines.length && !(lines[j] ?? '').startsWith('```'); j += 1) {
      // A `#` after a space starts a comment, as in the shell (none of our commands quote a ` #`).
      const command = (lines[j] ?? '').replace(/(^|\s)#.*$/, '').trim();
      if (command === '') continue;
      commands.push({
        readme,
        line: j + 1,
        command,
        cwd: cwd === undefined ? dirname(file) : resolve(root, cwd),
        how,
      });
      i = j;
    }
  }
  return commands;
}
