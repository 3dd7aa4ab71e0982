/** Delay before reconnect attempt `attempt` (0-based): 250 ms doubling to 30 s, with ±20 % jitter. */
export function backoffMs(attempt: number, opts: { baseMs?: number; maxMs?: number } = {}): number {
  const base = opts.baseMs ?? 250;
  const max = opts.maxMs ?? 30_000;
  const delay = Math.min(max, base * 2 ** Math.min(attempt, 20));
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}
