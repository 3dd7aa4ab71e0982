import { toolrunVitest } from '@toolrun/vitest-config';

/**
 * Unit tests (`src/**\/*.test.ts`) run in Node; the browser suite (`test/e2e/*.test.ts`) drives
 * headless Chromium against a real server, so it gets generous hang guards and runs its files
 * one after another (two cores, one browser at a time).
 */
export default toolrunVitest({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
