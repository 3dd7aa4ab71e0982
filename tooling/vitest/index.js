import { defineConfig, mergeConfig } from 'vitest/config';

/**
 * The shared Vitest configuration: every workspace writes a JSON report to
 * `test-results/vitest.json`, which `.ci/run` sums into one `N passed, N failed` line.
 * Plain JavaScript because Vitest loads config imports from node_modules without transpiling.
 *
 * @param {import('vitest/config').ViteUserConfig} [overrides]
 * @returns {import('vitest/config').ViteUserConfig}
 * @example
 * export default toolrunVitest({ test: { testTimeout: 60_000 } });
 */
export function toolrunVitest(overrides = {}) {
  return mergeConfig(
    defineConfig({
      test: {
        reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
        testTimeout: 20_000,
        hookTimeout: 30_000,
      },
    }),
    overrides,
  );
}
