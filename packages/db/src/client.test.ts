import { readdirSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRun, sha256, tempDb } from '../test/fixtures.ts';
import { openDatabase } from './client.ts';
import { isDbError } from './errors.ts';
import { knownMigrations, MIGRATIONS_TABLE, TOOLRUN_APPLICATION_ID } from './migrate.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
function temp() {
  const t = tempDb();
  cleanups.push(t.cleanup);
  return t;
}

function expectRefused(path: string, code: 'NOT_TOOLRUN_DATABASE' | 'NEWER_SCHEMA'): void {
  let thrown: unknown;
  try {
    openDatabase({ path }).closeSync();
  } catch (error) {
    thrown = error;
  }
  expect(isDbError(thrown, code), `expected DbError ${code}, got ${String(thrown)}`).toBe(true);
}

describe('openDatabase', () => {
  it('migrates a missing file (and its missing folder) to the current schema with the required pragmas', async () => {
    const { dir } = temp();
    const path = `${dir}/nested/toolrun.db`;
    const db = openDatabase({ path });
    db.closeSync();
    const raw = new Database(path, { readonly: true });
    try {
      const tables = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual([
        MIGRATIONS_TABLE,
        'approvals',
        'idempotency_keys',
        'isolation_audits',
        'queued_runs',
        'run_events',
        'runs',
        'scratchpad_entries',
        'tool_calls',
        'tool_switch_changes',
      ]);
      expect(raw.pragma('application_id', { simple: true })).toBe(TOOLRUN_APPLICATION_ID);
      expect(raw.pragma('user_version', { simple: true })).toBe(knownMigrations().length);
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.prepare(`SELECT count(*) FROM "${MIGRATIONS_TABLE}"`).pluck().get()).toBe(knownMigrations().length);
    } finally {
      raw.close();
    }
  });

  it('sets WAL, foreign keys, synchronous NORMAL and the busy timeout on its connection', async () => {
    const { path } = temp();
    const db = openDatabase({ path, busyTimeoutMs: 1234 });
    expect(await db.settings()).toEqual({
      backend: 'sqlite',
      journalMode: 'wal',
      synchronous: 1,
      foreignKeys: true,
      busyTimeoutMs: 1234,
      schemaVersion: knownMigrations().length,
    });
    db.closeSync();
  });

  it('reopens an up-to-date file without re-running migrations and keeps its data', async () => {
    const { path } = temp();
    const first = openDatabase({ path });
    await first.createPersistentSink().write(makeRun({ runId: 'run-a', userId: 'u1' }));
    first.closeSync();
    const second = openDatabase({ path });
    expect((await second.getRunRecord('run-a'))?.status).toBe('completed');
    expect(second.recovered).toEqual([]);
    second.closeSync();
  });

  it('refuses a SQLite file of another program and leaves it byte-for-byte untouched', async () => {
    const { dir, path } = temp();
    const raw = new Database(path);
    raw.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('ada')");
    raw.close();
    const before = sha256(path);
    const files = readdirSync(dir);
    expectRefused(path, 'NOT_TOOLRUN_DATABASE');
    expect(sha256(path)).toBe(before);
    expect(readdirSync(dir)).toEqual(files);
  });

  it('refuses a WAL-mode SQLite file of another program without creating side files next to it', async () => {
    const { dir, path } = temp();
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')");
    raw.close();
    const before = sha256(path);
    expect(readdirSync(dir)).toEqual(['toolrun.db']);
    expectRefused(path, 'NOT_TOOLRUN_DATABASE');
    expect(sha256(path)).toBe(before);
    expect(readdirSync(dir)).toEqual(['toolrun.db']);
  });

  it('refuses a SQLite file that another program is writing (hot WAL), leaving the file untouched', async () => {
    const { path } = temp();
    const other = new Database(path);
    other.pragma('journal_mode = WAL');
    other.exec('CREATE TABLE inbox (msg TEXT)');
    other.exec("INSERT INTO inbox VALUES ('in the WAL, not yet in the file')");
    try {
      const before = sha256(path);
      expectRefused(path, 'NOT_TOOLRUN_DATABASE');
      expect(sha256(path)).toBe(before);
      expect(other.prepare('SELECT count(*) FROM inbox').pluck().get()).toBe(1);
    } finally {
      other.close();
    }
  });

  it('refuses a file that is not SQLite at all and leaves it untouched', async () => {
    const { dir, path } = temp();
    writeFileSync(path, 'name,email\nada,ada@example.com\n'.repeat(200));
    const before = sha256(path);
    expectRefused(path, 'NOT_TOOLRUN_DATABASE');
    expect(sha256(path)).toBe(before);
    expect(readdirSync(dir)).toEqual(['toolrun.db']);
  });

  it('refuses a file migrated by a newer Toolrun (higher user_version) and leaves it untouched', async () => {
    const { path } = temp();
    openDatabase({ path }).closeSync();
    const raw = new Database(path);
    raw.pragma(`user_version = ${knownMigrations().length + 1}`);
    raw.close();
    const before = sha256(path);
    expectRefused(path, 'NEWER_SCHEMA');
    expect(sha256(path)).toBe(before);
  });

  it('refuses a file whose migration journal holds a migration newer than this version knows', async () => {
    const { path } = temp();
    openDatabase({ path }).closeSync();
    const raw = new Database(path);
    const last = knownMigrations().at(-1)?.folderMillis ?? 0;
    raw.prepare(`INSERT INTO "${MIGRATIONS_TABLE}" (hash, created_at) VALUES ('future', ?)`).run(last + 1);
    raw.close();
    const before = sha256(path);
    expectRefused(path, 'NEWER_SCHEMA');
    expect(sha256(path)).toBe(before);
  });

  it('initialises an existing empty SQLite file', async () => {
    const { path } = temp();
    new Database(path).close();
    const db = openDatabase({ path });
    expect(await db.healthy()).toBe(true);
    db.closeSync();
  });

  it('works in memory', async () => {
    const db = openDatabase({ path: ':memory:' });
    const events = makeRun({ runId: 'run-m', userId: 'u1' });
    await db.createPersistentSink().write(events);
    expect(await db.eventsAfter('run-m', 0)).toEqual(events);
    db.closeSync();
  });

  it('reports unhealthy and refuses calls with CLOSED after close', async () => {
    const db = openDatabase({ path: ':memory:' });
    const sink = db.createPersistentSink();
    expect(await db.healthy()).toBe(true);
    db.closeSync();
    db.closeSync();
    expect(await db.healthy()).toBe(false);
    await expect(db.listRuns({ limit: 10 })).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(sink.write(makeRun({ runId: 'late', userId: 'u1' }))).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(db.scratchpad.get('u1', 'k')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
