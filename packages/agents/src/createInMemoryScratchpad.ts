import type { JsonValue } from '@toolrun/dispatcher';
import type { ScratchpadStore } from './ports.ts';

/**
 * A {@link ScratchpadStore} in memory, for tests and the bench. Values are copied in and out
 * (`structuredClone`), so no caller ever holds a reference into the store or into another user's data.
 *
 * @example
 * const store = createInMemoryScratchpad();
 * await store.set('alice', 'note', { text: 'hi' });
 */
export function createInMemoryScratchpad(opts: { now?: () => number } = {}): ScratchpadStore {
  const now = opts.now ?? Date.now;
  const users = new Map<string, Map<string, { value: JsonValue; updatedAt: string }>>();
  return {
    async get(userId, key) {
      const entry = users.get(userId)?.get(key);
      return entry === undefined ? undefined : structuredClone(entry.value);
    },
    async set(userId, key, value) {
      let entries = users.get(userId);
      if (entries === undefined) {
        entries = new Map();
        users.set(userId, entries);
      }
      entries.set(key, { value: structuredClone(value), updatedAt: new Date(now()).toISOString() });
    },
    async delete(userId, key) {
      const entries = users.get(userId);
      const existed = entries?.delete(key) ?? false;
      if (entries?.size === 0) users.delete(userId);
      return existed;
    },
    async list(userId) {
      const entries = users.get(userId);
      if (entries === undefined) return [];
      return [...entries]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, entry]) => ({ key, value: structuredClone(entry.value), updatedAt: entry.updatedAt }));
    },
  };
}
