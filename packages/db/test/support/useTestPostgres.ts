import { afterAll, afterEach, beforeAll } from 'vitest';
import { startPostgres, type TestPostgres } from './startPostgres.ts';

/** What {@link useTestPostgres} gives a test file. */
export interface TestPostgresFixture {
  /** The file's server (started in `beforeAll`). */
  readonly server: TestPostgres;
  /** Closes `db` after the current test (`afterEach`); returns it. */
  track<T extends { close(): Promise<void> }>(db: T): T;
}

/**
 * One throwaway PostgreSQL server for the calling test file: started before its tests, stopped
 * after them; databases passed to `track` are closed after each test.
 *
 * @example
 * const pg = useTestPostgres();
 * it('…', async () => {
 *   const db = pg.track(await openStorage({ location: await pg.server.createDatabase() }));
 * });
 */
export function useTestPostgres(): TestPostgresFixture {
  let server: TestPostgres | undefined;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
  });
  afterAll(() => server?.stop());
  return {
    get server() {
      if (server === undefined) throw new Error('useTestPostgres: the server starts in beforeAll');
      return server;
    },
    track(db) {
      opened.push(db);
      return db;
    },
  };
}
