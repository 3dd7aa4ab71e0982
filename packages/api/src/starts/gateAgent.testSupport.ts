import { defineAgent } from '@toolrun/dispatcher';
import { z } from 'zod';

/**
 * For the queue tests: an agent `gate` whose runs wait until the test opens them by `key`, and a
 * record of what started, in order, with the most runs each user ever had going at once.
 */
export function gateAgent() {
  const started: string[] = [];
  const open = new Map<string, () => void>();
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  const agent = defineAgent({
    name: 'gate',
    description: 'Waits until the test opens it',
    input: z.object({ key: z.string() }),
    async run({ key }, ctx) {
      const user = ctx.context.userId;
      started.push(key);
      running.set(user, (running.get(user) ?? 0) + 1);
      peak.set(user, Math.max(peak.get(user) ?? 0, running.get(user) ?? 0));
      try {
        await new Promise<void>((resolve, reject) => {
          open.set(key, resolve);
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
        return { key };
      } finally {
        open.delete(key);
        running.set(user, (running.get(user) ?? 1) - 1);
      }
    },
  });
  return {
    agent,
    started,
    peak,
    /** Whether the run with `key` is waiting to be opened. */
    isWaiting: (key: string) => open.has(key),
    /** Lets the run with `key` finish; false when it is not waiting. */
    release(key: string): boolean {
      const resolve = open.get(key);
      resolve?.();
      return resolve !== undefined;
    },
  };
}

/** Waits until `condition` holds; throws after `timeoutMs` (a hang guard, not a timing assertion). */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('eventually: the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
