import { defineConfig } from 'vitest/config';

/**
 * `pnpm test:soak`: the reliability suite (test/reliability) at full size. The same tests as in CI,
 * with the soak sizes (`TOOLRUN_SOAK=1`: 1,000 users, 50 crashes, …), each overridable by its
 * `SOAK_*` variable (see RELIABILITY.md). One file at a time: each one loads the machine by itself.
 * Figures go to `test-results/reliability/*-soak.json`.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    env: { TOOLRUN_SOAK: process.env.TOOLRUN_SOAK ?? '1' },
    fileParallelism: false,
    // Each test has its own hang guards, sized by its parameters; these only stop a runaway.
    testTimeout: 4 * 60 * 60_000,
    hookTimeout: 5 * 60_000,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest-soak.json' }]],
  },
});
