import { createColors } from 'picocolors';
import type { Colors } from 'picocolors/types';
import type { CliError } from './CliError.ts';
import type { CliEnv } from './env.ts';

/**
 * Where the CLI writes. `--json`: stdout carries only JSON objects, one per line, and everything
 * else (notes, errors) goes to stderr. Text: results on stdout, notes on stderr, colours only on a
 * terminal without `NO_COLOR` (or with `FORCE_COLOR`).
 */
export class Output {
  readonly color: Colors;
  /**
   * Whether a person watches: stdout and stderr are terminals, not `--json`, not CI. Then a spinner
   * shows the calls in flight; otherwise (a pipe, a log file) each call's start is a line of its own.
   */
  readonly live: boolean;
  /** Whether Ctrl-C may ask a question: stdin and stderr are terminals and not CI. */
  readonly canAsk: boolean;

  constructor(
    readonly json: boolean,
    env: Pick<CliEnv, 'noColor' | 'forceColor' | 'ci'>,
    readonly stdout: NodeJS.WriteStream = process.stdout,
    readonly stderr: NodeJS.WriteStream = process.stderr,
    stdin: NodeJS.ReadStream = process.stdin,
  ) {
    const colours = !json && !env.noColor && (env.forceColor || stdout.isTTY === true);
    this.color = createColors(colours);
    this.live = !json && !env.ci && stdout.isTTY === true && stderr.isTTY === true;
    this.canAsk = !env.ci && stdin.isTTY === true && stderr.isTTY === true;
  }

  /** A line of text on stdout (text mode only). */
  line(text: string): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** One JSON object on its own line on stdout (`--json` only). */
  record(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A note for the person at the terminal, on stderr (both modes). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** The command's failure on stderr: readable text, or one JSON object with `--json`. */
  error(error: CliError): void {
    if (this.json) {
      this.stderr.write(
        `${JSON.stringify({ error: { code: error.code, message: error.message }, exitCode: error.exitCode })}\n`,
      );
    } else {
      this.stderr.write(`${this.color.red('error')} ${error.message}\n`);
    }
  }
}
