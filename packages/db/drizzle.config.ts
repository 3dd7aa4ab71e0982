import { defineConfig } from 'drizzle-kit';

/** drizzle-kit reads this to generate migrations from `src/schema.ts` into `drizzle/` (works offline). */
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/schema.ts',
  out: './drizzle',
});
