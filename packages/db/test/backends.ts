import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach } from 'vitest';
import type { ToolrunDatabase } from '../src/database.ts';
import { openStorage } from '../src/openStorage.ts';
import { tempDb } from './fixtures.ts';
import { startPostgres, type TestPostgres } from './support/startPostgres.ts';

/** Options a contract test may open a database with. */
export interface OpenOptions {
  now?: () => number;
  /** SQLite only (PostgreSQL ignores it): where the sink commits. */
  writer?: 'thread' | 'inline';
  /** Agents whose runs parked on approval crash recovery keeps running. */
  resumableAgents?: string[];
  /** PostgreSQL: run leases of this length, as in cluster mode (SQLite ignores it). */
  runLeaseMs?: number;
}

/**
 * One storage backend as the shared contract tests see it: fresh empty locations, opening, and a
 * second connection of the test's own to look at (or break) the tables behind the database's back.
 */
export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** A new, empty database location (a file path or a URL). */
  fresh(): Promise<string>;
  /** Opens `location` (a fresh one when absent); closed after the test. */
  open(location?: string, opts?: OpenOptions): Promise<ToolrunDatabase & { location: string }>;
  /** Runs SQL through a connection of the test's own; returns the first column of each row. */
  sql(location: string, text: string): Promise<unknown[]>;
  /** `SELECT count(*) FROM table` through the test's own connection. */
  count(location: string, table: string): Promise<number>;
  /** Makes the next event row whose data contains `marker` fail its INSERT (a real failure inside the transaction). */
  breakInsertsOf(location: string, marker: string): Promise<void>;
  repairInserts(location: string): Promise<void>;
}

const opened: ToolrunDatabase[] = [];
const cleanups: (() => void)[] = [];
let server: Promise<TestPostgres> | undefined;

afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
});
afterAll(async () => {
  // Locations outlive a test (a describe may share one); folders and databases go with the file.
  for (const cleanup of cleanups.splice(0)) cleanup();
  // One PostgreSQL server per test file, started on first use.
  if (server !== undefined) (await server).stop();
  server = undefined;
});

const sqlite: Backend = {
  name: 'sqlite',
  async fresh() {
    const t = tempDb();
    cleanups.push(t.cleanup);
    return t.path;
  },
  async open(location, opts = {}) {
    const at = location ?? (await this.fresh());
    const db = await openStorage({ location: at, ...opts });
    opened.push(db);
    return Object.assign(db, { location: at });
  },
  async sql(location, text) {
    const raw = new Database(location);
    try {
      const stmt = raw.prepare(text);
      if (!stmt.reader) {
        stmt.run();
        return [];
      }
      return stmt
        .raw()
        .all()
        .map((row) => (row as unknown[])[0]);
    } finally {
      raw.close();
    }
  },
  async count(location, table) {
    return Number((await this.sql(location, `SELECT count(*) FROM ${table}`))[0]);
  },
  async breakInsertsOf(location, marker) {
    await this.sql(
      location,
      `CREATE TRIGGER boom BEFORE INSERT ON run_events WHEN instr(NEW.data, '${marker}') > 0
       BEGIN SELECT RAISE(ABORT, 'simulated I/O failure'); END`,
    );
  },
  async repairInserts(location) {
    await this.sql(location, 'DROP TRIGGER boom');
  },
};

const postgres: Backend = {
  name: 'postgres',
  async fresh() {
    server ??= startPostgres();
    return (await server).createDatabase();
  },
  async open(location, opts = {}) {
    const at = location ?? (await this.fresh());
    const { writer: _sqliteOnly, ...pgOpts } = opts;
    const db = await openStorage({ location: at, ...pgOpts });
    opened.push(db);
    return Object.assign(db, { location: at });
  },
  async sql(location, text) {
    const client = new pg.Client({ connectionString: location });
    await client.connect();
    try {
      const result = await client.query({ text, rowMode: 'array' });
      return (result.rows as unknown[][]).map((row) => row[0]);
    } finally {
      await client.end();
    }
  },
  async count(location, table) {
    return Number((await this.sql(location, `SELECT count(*) FROM ${table}`))[0]);
  },
  async breakInsertsOf(location, marker) {
    await this.sql(
      location,
      `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF position('${marker}' in NEW.data) > 0 THEN RAISE EXCEPTION 'simulated I/O failure'; END IF; RETURN NEW; END $$`,
    );
    await this.sql(location, 'CREATE TRIGGER boom BEFORE INSERT ON run_events FOR EACH ROW EXECUTE FUNCTION boom()');
  },
  async repairInserts(location) {
    await this.sql(location, 'DROP TRIGGER boom ON run_events');
    await this.sql(location, 'DROP FUNCTION boom()');
  },
};

/** Both backends, for `describe.each(BACKENDS)('…, %s', …)`: one set of test cases, run on each. */
export const BACKENDS: readonly Backend[] = [sqlite, postgres];
