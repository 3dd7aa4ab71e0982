import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * The heap in use after a full garbage collection, in bytes. The collector is reached through V8's
 * `--expose-gc` flag set at run time, so the test runner needs no extra flag; without it the figure
 * is taken as is.
 */
export async function heapAfterGc(): Promise<number> {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = () => {};
    }
  }
  // Several passes with a turn of the event loop in between: finalizers and closed sockets let go late.
  for (let i = 0; i < 3; i += 1) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().heapUsed;
}

/** Bytes as megabytes with one decimal, for reports. */
export function mb(bytes: number): number {
  return Math.round(bytes / 104_857.6) / 10;
}
