import { type ChildProcess, fork } from 'node:child_process';

/** Every child started through {@link startChild} that has not exited yet. */
const live = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A child process driven over IPC. */
export interface Child<Req, Rep> {
  readonly pid: number;
  /** Sends a message. */
  send(message: Req): void;
  /** The next message matching `match`, or a rejection after `timeoutMs` or when the child exits. */
  next<R extends Rep>(match: (reply: Rep) => reply is R, timeoutMs: number): Promise<R>;
  /** The last lines the child wrote to stdout and stderr, for error messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once the child has exited. */
  readonly exited: Promise<string>;
  /** Asks the child to exit (SIGTERM), then kills it (SIGKILL) after `graceMs`. */
  stop(graceMs?: number): Promise<string>;
}

/**
 * Forks `node [execArgv] --import tsx <script>` with an IPC channel. The child is tracked and
 * killed if the bench exits first; its output is kept (the last 60 lines), not printed.
 */
export function startChild<Req, Rep>(opts: {
  script: string;
  cwd: string;
  execArgv?: readonly string[];
  env?: Record<string, string>;
}): Child<Req, Rep> {
  const child = fork(opts.script, [], {
    cwd: opts.cwd,
    execArgv: [...(opts.execArgv ?? []), '--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...opts.env },
    serialization: 'advanced',
  });
  live.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
    if (lines.length > 60) lines.splice(0, lines.length - 60);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const inbox: Rep[] = [];
  const waiters = new Set<{ match: (reply: Rep) => boolean; resolve: (reply: Rep) => void }>();
  child.on('message', (message) => {
    const reply = message as Rep;
    for (const waiter of waiters) {
      if (waiter.match(reply)) {
        waiters.delete(waiter);
        waiter.resolve(reply);
        return;
      }
    }
    inbox.push(reply);
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(signal ?? String(code));
    });
  });
  return {
    pid: child.pid ?? -1,
    send(message) {
      if (child.connected) child.send(message as object);
    },
    next<R extends Rep>(match: (reply: Rep) => reply is R, timeoutMs: number): Promise<R> {
      const index = inbox.findIndex(match);
      if (index !== -1) return Promise.resolve(inbox.splice(index, 1)[0] as R);
      return new Promise<R>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (reply: Rep) => {
            clearTimeout(timer);
            resolve(reply as R);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no reply from ${opts.script} within ${timeoutMs} ms\n${lines.slice(-20).join('\n')}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then((how) => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          reject(new Error(`${opts.script} exited (${how}) before replying\n${lines.slice(-20).join('\n')}`));
        });
      });
    },
    output: () => lines.join('\n'),
    exited,
    async stop(graceMs = 3_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
}
