import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The bin as a user's shell runs it. */
export const BIN = fileURLToPath(new URL('../../bin/toolrun.js', import.meta.url));

/** A finished CLI process: its exit code and what it wrote. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI process still running: its output so far, a way to wait for some of it, and its end. */
export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout holds `n` lines (hang guard: 30 s). */
  waitForLines(n: number): Promise<string[]>;
  /** Resolves once stderr matches `pattern` (hang guard: 30 s). */
  waitForStderr(pattern: RegExp): Promise<string>;
  readonly done: Promise<CliResult>;
}

/** Starts `toolrun <args>` as a child process (`node bin/toolrun.js`), pipes for stdio, never a terminal. */
export function startCli(args: string[], env: Record<string, string>): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const w of waiters) w();
  });
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code) => {
      for (const w of waiters) w();
      resolve({ code, stdout, stderr });
    });
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void done.then(() => clearTimeout(guard));
  const waitFor = <T>(check: () => T | undefined, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(test);
        reject(new Error(`hang guard: ${what}; stdout:\n${stdout}\nstderr:\n${stderr}`));
      }, 30_000);
      const test = () => {
        const value = check();
        if (value !== undefined) {
          clearTimeout(timer);
          waiters.delete(test);
          resolve(value);
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          waiters.delete(test);
          reject(
            new Error(`the CLI exited (${child.exitCode}) before ${what}; stdout:\n${stdout}\nstderr:\n${stderr}`),
          );
        }
      };
      waiters.add(test);
      test();
    });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForLines: (n) =>
      waitFor(() => {
        const lines = stdout.split('\n').filter((line) => line !== '');
        return lines.length >= n ? lines : undefined;
      }, `${n} lines on stdout`),
    waitForStderr: (pattern) =>
      waitFor(() => (pattern.test(stderr) ? stderr : undefined), `stderr to match ${pattern}`),
    done,
  };
}

/** Runs `toolrun <args>` to its end. */
export function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return startCli(args, env).done;
}

/** The test runner's environment without anything that would change the CLI's behaviour. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ['TOOLRUN_URL', 'TOOLRUN_TOKEN', 'NO_COLOR', 'FORCE_COLOR', 'INIT_CWD', 'npm_lifecycle_event']) {
    delete env[key];
  }
  return env;
}

/** Every stdout line parsed as JSON; fails on a line that is not. */
export function jsonLines(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}
