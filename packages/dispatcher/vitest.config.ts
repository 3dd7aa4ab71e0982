import { toolrunVitest } from '@toolrun/vitest-config';

// Type tests (`*.test-d.ts`) are checked by `tsc --noEmit` (the typecheck script), which already
// compiles them; running tsc a second time inside vitest would double the suite's time.
// `vitest run --typecheck` runs them here too.
export default toolrunVitest({
  test: { typecheck: { include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' } },
});
