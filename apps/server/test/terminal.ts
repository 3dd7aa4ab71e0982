import { execFileSync } from 'node:child_process';

/**
 * A real pseudo-terminal, through tmux on a private server (`tmux -L <name>`): the CLI sees a TTY on
 * stdin, stdout and stderr, as in a user's terminal, and keys (Ctrl-C, arrows, Enter) go through the
 * terminal driver. `bash scripts/setup.sh` installs tmux.
 */
export class Terminal {
  readonly #socket = `toolrun-cli-test-${process.pid}-${Math.random().toString(36).slice(2)}`;

  /** Starts `command` (a shell command line) in a 150×40 terminal. */
  constructor(command: string) {
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new Error('tmux is missing: bash scripts/setup.sh installs it (the Ctrl-C prompt needs a real terminal)');
    }
    this.#tmux(['new-session', '-d', '-x', '150', '-y', '40', command]);
  }

  #tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' });
  }

  /** What the screen shows now, with the scrollback. */
  screen(): string {
    return this.#tmux(['capture-pane', '-p', '-S', '-200']);
  }

  /** Sends keys by tmux name (`C-c`, `Down`, `Enter`). */
  press(...keys: string[]): void {
    this.#tmux(['send-keys', ...keys]);
  }

  /** Resolves with the screen once it matches `pattern` (polls every 100 ms; hang guard 30 s). */
  async waitFor(pattern: RegExp): Promise<string> {
    const until = Date.now() + 30_000;
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > until) throw new Error(`hang guard: the terminal never showed ${pattern}:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  close(): void {
    try {
      this.#tmux(['kill-server']);
    } catch {
      // Already gone.
    }
  }
}
