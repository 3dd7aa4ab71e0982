import { fileURLToPath } from 'node:url';
import { type MigrationMeta, readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import { DbError } from '../errors.ts';
import { TOOLRUN_APPLICATION_ID } from '../migrate.ts';

/** The committed drizzle-kit migrations for PostgreSQL (`packages/db/drizzle-pg`). */
export const PG_MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle-pg', import.meta.url));

/**
 * The first key of every advisory lock Toolrun takes ("TRN1", as SQLite's application id); the
 * second is 0 for migrations and a process's lease key (1 … 2³¹−1) for its lifetime.
 */
export const LOCK_NAMESPACE = TOOLRUN_APPLICATION_ID;
const MIGRATION_LOCK = 0;

let known: readonly MigrationMeta[] | undefined;

/** The PostgreSQL migrations this version knows, oldest first. */
export function knownPgMigrations(): readonly MigrationMeta[] {
  known ??= readMigrationFiles({ migrationsFolder: PG_MIGRATIONS_FOLDER });
  return known;
}

/**
 * Applies the committed migrations under a session advisory lock, so that processes starting at
 * once migrate one after the other (the later ones find nothing left to do). Before anything is
 * written it refuses, untouched: a database with tables but no Toolrun migrations
 * (`NOT_TOOLRUN_DATABASE`) and one migrated by a newer Toolrun (`NEWER_SCHEMA`). Returns the number
 * of migrations applied in all.
 */
export async function migratePostgres(client: pg.Client): Promise<number> {
  await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
  try {
    const migrations = knownPgMigrations();
    const newest = migrations.at(-1)?.folderMillis ?? 0;
    const present = await client.query<{ present: boolean }>(
      "SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present",
    );
    if (present.rows[0]?.present === true) {
      const applied = await client.query<{ count: string; newest: string | null }>(
        'SELECT count(*) AS count, max(created_at) AS newest FROM drizzle.__drizzle_migrations',
      );
      const row = applied.rows[0];
      if (Number(row?.count ?? 0) > migrations.length || Number(row?.newest ?? 0) > newest) {
        throw new DbError(
          'NEWER_SCHEMA',
          `the database was migrated by a newer Toolrun (${row?.count ?? 0} migrations, this version knows ${migrations.length}); it was not changed`,
        );
      }
    } else {
      const tables = await client.query<{ count: string }>(
        'SELECT count(*) AS count FROM information_schema.tables WHERE table_schema = current_schema()',
      );
      if (Number(tables.rows[0]?.count ?? 0) > 0) {
        throw new DbError(
          'NOT_TOOLRUN_DATABASE',
          'the database has tables but no Toolrun migrations: use an empty database for Toolrun; it was not changed',
        );
      }
    }
    await migrate(drizzle({ client }), { migrationsFolder: PG_MIGRATIONS_FOLDER });
    await client.query('INSERT INTO feed_head (id, pos) VALUES (1, 0) ON CONFLICT (id) DO NOTHING');
    return migrations.length;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
  }
}
