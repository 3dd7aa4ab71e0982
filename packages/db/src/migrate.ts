import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { type MigrationMeta, readMigrationFiles } from 'drizzle-orm/migrator';

/**
 * `PRAGMA application_id` of every Toolrun database ("TRN1"): what tells our file from any other
 * SQLite file. Set before the first migration, so a crash between the two leaves a recognisable file.
 */
export const TOOLRUN_APPLICATION_ID = 0x54524e31;

/** The committed drizzle-kit migrations (`packages/db/drizzle`). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../drizzle', import.meta.url));

/** The name of drizzle's bookkeeping table. */
export const MIGRATIONS_TABLE = '__drizzle_migrations';

let known: readonly MigrationMeta[] | undefined;

/** The migrations this version knows, oldest first; `user_version` of a migrated file is their count. */
export function knownMigrations(): readonly MigrationMeta[] {
  known ??= readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  return known;
}

/**
 * Applies the committed migrations with drizzle's migrator (one transaction), stamping a fresh
 * file with {@link TOOLRUN_APPLICATION_ID} first and `user_version` after.
 */
export function applyMigrations(sqlite: Database.Database, opts: { fresh: boolean }): void {
  if (opts.fresh) sqlite.pragma(`application_id = ${TOOLRUN_APPLICATION_ID}`);
  migrate(drizzle({ client: sqlite }), { migrationsFolder: MIGRATIONS_FOLDER, migrationsTable: MIGRATIONS_TABLE });
  const count = knownMigrations().length;
  const current = Number(sqlite.pragma('user_version', { simple: true }));
  if (current < count) sqlite.pragma(`user_version = ${count}`);
}
