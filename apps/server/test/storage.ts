import { startPostgres, type TestPostgres } from '@toolrun/db/test-support';
import { afterAll } from 'vitest';

/** A storage backend a server test runs on; see {@link STORAGES}. */
export interface Storage {
  readonly name: 'sqlite' | 'postgres';
  /**
   * A new empty database for `startTestServer({ database })`: `undefined` for SQLite (the helper's
   * temporary file), a fresh database on this file's own PostgreSQL server otherwise.
   */
  fresh(): Promise<string | undefined>;
}

let postgres: Promise<TestPostgres> | undefined;
afterAll(async () => {
  // One throwaway PostgreSQL server per test file, started on first use and removed with it.
  if (postgres !== undefined) (await postgres).stop();
  postgres = undefined;
});

/** SQLite and PostgreSQL: `describe.each(STORAGES)('… on $name', (storage) => …)` runs a suite on both. */
export const STORAGES: readonly Storage[] = [
  { name: 'sqlite', fresh: async () => undefined },
  {
    name: 'postgres',
    async fresh() {
      postgres ??= startPostgres();
      return (await postgres).createDatabase();
    },
  },
];
