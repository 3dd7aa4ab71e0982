/**
 * Polls `check` every 25 ms until it holds; rejects after `ms` (a deadline for a condition that
 * must come true, not an assertion on time).
 */
export async function waitUntil(check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
