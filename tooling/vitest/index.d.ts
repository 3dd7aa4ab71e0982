import type { ViteUserConfig } from 'vitest/config';

/** The shared Vitest configuration (JSON report under `test-results/vitest.json`). */
export declare function toolrunVitest(overrides?: ViteUserConfig): ViteUserConfig;
