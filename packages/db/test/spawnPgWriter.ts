import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs `test/pgWriter.ts` as a child process. `ready` resolves when it exits cleanly (`finish`) or has
 * printed `held` (`hold`); `exited` with its exit code or signal.
 */
export function spawnPgWriter(
  url: string,
  prefix: string,
  runs: number,
  mode: 'finish' | 'hold',
  runLeaseMs?: number,
): { child: ChildProcess; ready: Promise<void>; exited: Promise<NodeJS.Signals | number | null> } {
  const args = ['--import', 'tsx', 'test/pgWriter.ts', url, prefix, String(runs), mode];
  if (runLeaseMs !== undefined) args.push(String(runLeaseMs));
  const child = spawn(process.execPath, args, { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('held')) resolve();
    });
    void exited.then((code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))));
  });
  return { child, ready, exited };
}
