import { defineConfig } from 'drizzle-kit';

/** drizzle-kit reads this to generate the PostgreSQL migrations from `src/postgres/schema.ts` into `drizzle-pg/`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/postgres/schema.ts',
  out: './drizzle-pg',
});
