import type { JsonValue } from '@toolrun/dispatcher';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type * as schema from './schema.ts';

/** The drizzle handle the repositories share. */
export type DrizzleDb = BetterSQLite3Database<typeof schema>;

/** An ISO-8601 time (millisecond precision) from epoch milliseconds. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** {@link iso} for nullable columns. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

/** Parses a JSON text column this package wrote with `JSON.stringify`. */
export function parseJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}
