import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DbError } from './errors.ts';
import { knownMigrations, MIGRATIONS_TABLE, TOOLRUN_APPLICATION_ID } from './migrate.ts';

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * Decides, without writing anything, whether `path` may be opened read-write: `'fresh'` (no file,
 * or an empty SQLite database) or `'toolrun'` (a Toolrun file this version can migrate).
 * Throws {@link DbError} `NOT_TOOLRUN_DATABASE` or `NEWER_SCHEMA` otherwise.
 *
 * Inspection uses a read-only connection: a read-write one could roll back another program's hot
 * journal or checkpoint its WAL on close, both of which rewrite the main file.
 */
export function inspectFile(path: string): 'fresh' | 'toolrun' {
  if (path === ':memory:' || path === '') return 'fresh';
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new DbError('NOT_TOOLRUN_DATABASE', `${path} is not a file`);
    size = stat.size;
  } catch (error) {
    if (isMissing(error)) return 'fresh';
    throw error;
  }
  if (size > 0) {
    const header = readHeader(path);
    if (header.subarray(0, 16).toString('latin1') !== SQLITE_MAGIC) {
      throw new DbError('NOT_TOOLRUN_DATABASE', `${path} is not a SQLite database; refusing to open it`);
    }
    const verdict = fromHeader(header, path);
    if (verdict !== undefined) return verdict;
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5_000 });
    return classify(db, path);
  } catch (error) {
    if (error instanceof DbError) throw error;
    throw new DbError('NOT_TOOLRUN_DATABASE', `${path} could not be read as a SQLite database`, { cause: error });
  } finally {
    db?.close();
  }
}

function classify(db: Database.Database, path: string): 'fresh' | 'toolrun' {
  const applicationId = Number(db.pragma('application_id', { simple: true }));
  const objects = Number(
    db.prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").pluck().get(),
  );
  if (applicationId === 0 && objects === 0) return 'fresh';
  if (applicationId !== TOOLRUN_APPLICATION_ID) {
    throw new DbError(
      'NOT_TOOLRUN_DATABASE',
      `${path} is a SQLite database of another program (application_id ${applicationId}, ${objects} schema objects); refusing to open it`,
    );
  }
  const migrations = knownMigrations();
  const userVersion = Number(db.pragma('user_version', { simple: true }));
  const lastKnown = migrations.at(-1)?.folderMillis ?? 0;
  const hasTable = db.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', MIGRATIONS_TABLE);
  const lastApplied = hasTable
    ? Number(db.prepare(`SELECT coalesce(max(created_at), 0) FROM "${MIGRATIONS_TABLE}"`).pluck().get())
    : 0;
  if (userVersion > migrations.length || lastApplied > lastKnown) {
    throw new DbError(
      'NEWER_SCHEMA',
      `${path} was migrated by a newer Toolrun (schema ${userVersion}, this version knows ${migrations.length}); refusing to open it`,
    );
  }
  return 'toolrun';
}

/**
 * Decides from the first page alone when that is safe (no WAL with frames and no rollback journal
 * beside the file, so the main file is the whole database): SQLite never opens a foreign file then,
 * not even read-only (which would create `-wal`/`-shm` files next to a WAL-mode database).
 * Returns undefined when SQLite must look (our own file, or a sidecar that may hold newer pages).
 */
function fromHeader(header: Buffer, path: string): 'fresh' | undefined {
  if (header.length < 108 || nonEmpty(`${path}-wal`) || nonEmpty(`${path}-journal`)) return undefined;
  const applicationId = header.readInt32BE(68);
  if (applicationId === TOOLRUN_APPLICATION_ID) return undefined;
  // Page 1 holds sqlite_master's root after the 100-byte header: a leaf (0x0d) with zero cells is an empty schema.
  const emptySchema = header[100] === 0x0d && header.readUInt16BE(103) === 0;
  if (applicationId === 0 && emptySchema) return 'fresh';
  throw new DbError(
    'NOT_TOOLRUN_DATABASE',
    `${path} is a SQLite database of another program (application_id ${applicationId}); refusing to open it`,
  );
}

function readHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(108);
    const read = readSync(fd, buffer, 0, 108, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function nonEmpty(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
