import type { JsonValue } from '@toolrun/dispatcher';

/**
 * Ports: how the built-in tools reach storage and the dispatcher's run control. The server wires
 * `@toolrun/db`'s scratchpad and prune, and the factory's `activeRuns` / `cancelRun`; tests wire
 * `createInMemoryScratchpad()` and small in-memory stand-ins.
 */

/**
 * A per-user key-value store. Every method takes the owning user's id first: the scratchpad tool
 * passes the scope's `context.userId`, never anything from its input. `@toolrun/db` declares the
 * same shape.
 */
export interface ScratchpadStore {
  get(userId: string, key: string): Promise<JsonValue | undefined>;
  set(userId: string, key: string, value: JsonValue): Promise<void>;
  /** `true` when the key existed. */
  delete(userId: string, key: string): Promise<boolean>;
  /** The user's entries, sorted by key. `updatedAt` is ISO-8601. */
  list(userId: string): Promise<{ key: string; value: JsonValue; updatedAt: string }[]>;
}

/** One active run, as the admin tools report it. */
export interface ActiveRunInfo {
  runId: string;
  userId: string;
  agent: string;
  startedAt: string;
}

/**
 * The dispatcher factory's run control, as the admin tools need it. Either answer may be a promise:
 * in cluster mode the runs are on other processes.
 */
export interface RunControl {
  activeRuns(): ActiveRunInfo[] | Promise<ActiveRunInfo[]>;
  /** `false` when the run is not active. */
  cancelRun(runId: string, reason?: string): boolean | Promise<boolean>;
}

/** Deletes finished runs (and their events) older than a cut-off. */
export interface HistoryPurge {
  prune(opts: { olderThanMs: number }): Promise<{ runs: number; events: number }>;
}

/** Everything {@link createBuiltinTools} needs. */
export interface BuiltinToolPorts {
  scratchpad: ScratchpadStore;
  runControl: RunControl;
  history: HistoryPurge;
}
