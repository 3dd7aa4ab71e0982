import { CANARY_USER_ID } from '@toolrun/api';
import type { Logger } from 'pino';
import type { CanaryResult } from './runCanary.ts';
import { runCanary } from './runCanary.ts';

/**
 * The canary's service identity (defined in `@toolrun/api`, whose all-users views leave it out): its
 * runs are its own, invisible to users and admins' listings, and pruned after each check.
 */
export { CANARY_USER_ID };

/** Options of {@link startCanary}. */
export interface CanaryOptions {
  /** This server's own URL: the canary goes through the same HTTP path as any client. */
  readonly url: string;
  /** A fresh token for {@link CANARY_USER_ID} before each check. */
  readonly token: () => Promise<string>;
  readonly intervalMs: number;
  /** How long one check may take before it counts as failed; default 10 s. */
  readonly timeoutMs?: number;
  /** Deletes the canary's finished runs (they are kept out of history). */
  readonly prune: () => Promise<unknown>;
  readonly onResult?: (result: CanaryResult) => void;
  readonly logger: Logger;
}

/** A running canary. */
export interface Canary {
  /** The latest check, or `undefined` before the first has finished. */
  last(): CanaryResult | undefined;
  /** Failed checks in a row (0 after a success). */
  consecutiveFailures(): number;
  /** Stops scheduling and waits for a check in flight. */
  stop(): Promise<void>;
}

/**
 * Runs {@link runCanary} every `intervalMs` (the first one an interval after start), one at a time, and
 * keeps the latest verdict for `/healthz`, `/metrics` and the console. A verdict change is logged
 * once, not every interval.
 */
export function startCanary(opts: CanaryOptions): Canary {
  let last: CanaryResult | undefined;
  let failures = 0;
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const check = async (): Promise<void> => {
    let result: CanaryResult;
    try {
      result = await runCanary({ url: opts.url, token: await opts.token(), timeoutMs: opts.timeoutMs ?? 10_000 });
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      result = { ok: false, at: new Date().toISOString(), latencyMs: 0, runId: undefined, problems: [problem] };
    }
    if (result.ok !== (last?.ok ?? true)) {
      if (result.ok) opts.logger.info({ latencyMs: result.latencyMs }, 'canary recovered');
      else opts.logger.error({ problems: result.problems, runId: result.runId }, 'canary failing');
    }
    failures = result.ok ? 0 : failures + 1;
    last = result;
    opts.onResult?.(result);
    await opts.prune().catch((error: unknown) => opts.logger.warn({ err: error }, 'pruning canary runs failed'));
  };
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = check().finally(() => {
        inFlight = undefined;
        schedule(opts.intervalMs);
      });
    }, delayMs);
    timer.unref();
  };
  schedule(opts.intervalMs);

  return {
    last: () => last,
    consecutiveFailures: () => failures,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
