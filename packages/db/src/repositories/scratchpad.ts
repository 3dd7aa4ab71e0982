import type { JsonValue } from '@toolrun/dispatcher';
import { and, asc, eq } from 'drizzle-orm';
import { type DrizzleDb, iso, parseJson } from '../drizzleDb.ts';
import { DbError } from '../errors.ts';
import { scratchpadEntries } from '../schema.ts';

/**
 * Per-user key/value storage for the built-in scratchpad tool. Structural: `@toolrun/agents`
 * declares the same shape. Every operation is keyed by `userId`; one user never sees another's keys.
 */
export interface ScratchpadStore {
  get(userId: string, key: string): Promise<JsonValue | undefined>;
  set(userId: string, key: string, value: JsonValue): Promise<void>;
  delete(userId: string, key: string): Promise<boolean>;
  list(userId: string): Promise<{ key: string; value: JsonValue; updatedAt: string }[]>;
}

/** Longest accepted key, in UTF-16 code units. */
export const MAX_SCRATCHPAD_KEY_LENGTH = 256;

/** The SQLite {@link ScratchpadStore}: one row per `(user_id, key)`. */
export function createSqliteScratchpad(db: DrizzleDb, now: () => number): ScratchpadStore {
  const whereKey = (userId: string, key: string) =>
    and(eq(scratchpadEntries.userId, checkUser(userId)), eq(scratchpadEntries.key, checkKey(key)));
  // Promise-returning by contract; settle through a promise so argument errors reject instead of throwing.
  const attempt = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));
  return {
    get: (userId, key) =>
      attempt(() => {
        const row = db
          .select({ value: scratchpadEntries.value })
          .from(scratchpadEntries)
          .where(whereKey(userId, key))
          .get();
        return row === undefined ? undefined : parseJson(row.value);
      }),
    set: (userId, key, value) =>
      attempt(() => {
        const text = JSON.stringify(value);
        if (text === undefined) throw new DbError('INVALID_ARGUMENT', 'value must be JSON');
        const updatedAt = now();
        db.insert(scratchpadEntries)
          .values({ userId: checkUser(userId), key: checkKey(key), value: text, updatedAt })
          .onConflictDoUpdate({
            target: [scratchpadEntries.userId, scratchpadEntries.key],
            set: { value: text, updatedAt },
          })
          .run();
      }),
    delete: (userId, key) => attempt(() => db.delete(scratchpadEntries).where(whereKey(userId, key)).run().changes > 0),
    list: (userId) =>
      attempt(() =>
        db
          .select({
            key: scratchpadEntries.key,
            value: scratchpadEntries.value,
            updatedAt: scratchpadEntries.updatedAt,
          })
          .from(scratchpadEntries)
          .where(eq(scratchpadEntries.userId, checkUser(userId)))
          .orderBy(asc(scratchpadEntries.key))
          .all()
          .map((row) => ({ key: row.key, value: parseJson(row.value), updatedAt: iso(row.updatedAt) })),
      ),
  };
}

/** Checks a scratchpad user id: non-empty ({@link DbError} `INVALID_ARGUMENT`). */
export function checkUser(userId: string): string {
  if (typeof userId !== 'string' || userId === '') throw new DbError('INVALID_ARGUMENT', 'userId must be non-empty');
  return userId;
}

/** Checks a scratchpad key: 1 to {@link MAX_SCRATCHPAD_KEY_LENGTH} characters. */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || key === '' || key.length > MAX_SCRATCHPAD_KEY_LENGTH) {
    throw new DbError('INVALID_ARGUMENT', `key must be 1 to ${MAX_SCRATCHPAD_KEY_LENGTH} characters`);
  }
  return key;
}
