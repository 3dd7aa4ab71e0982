import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@toolrun/db';
import Database from 'better-sqlite3';

/** A fresh Toolrun database file (schema, WAL, synchronous NORMAL) in its own temp folder. */
export function freshFile(): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'toolrun-bench-db-'));
  const path = join(dir, 'bench.db');
  openDatabase({ path }).close();
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The same file through better-sqlite3 alone, with the pragmas `openDatabase` sets. */
export function openRaw(path: string, foreignKeys: boolean): Database.Database {
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  return sqlite;
}
